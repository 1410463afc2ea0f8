"""Large ResourceLists read lazily: the items block cut into one text chunk per item
(`lazy_list`), an item read in parts, by the lines of one key or its head (`parts`,
`item_parts`, `lazy_item`), and the worker process that checks every chunk meanwhile
(`check_worker`).

It builds on the YAML text engine: it imports `krmfn._errors`, `krmfn._text` and its own
modules, never the object model or what runs functions.
"""
