"""The object model a function works with: KubeObject and its live views (`object`),
ResourceList (`resource_list`), results (`results`), typed configs (`config`,
`config_kind`, `config_doc`), selectors (`selector`), whether a kind is namespaced
(`scope`, `builtin_scope`) and the files resources belong to (`package_paths`).

It imports `krmfn._errors`, `krmfn._text`, `krmfn._large` and its own modules, never
`krmfn._run`: it does not know how a function is run or where its files are written.
"""
