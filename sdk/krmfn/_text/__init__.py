"""The YAML text engine: YAML parsed into node trees that remember where each node stands
in its text (`parse`, `parse_list`, `nodes`), field paths (`path`), documents edited by
splicing new text into the old (`document`, `doc_text`, `render`, `ends`), anchors and
aliases (`anchors`), and comments (`comments`, `line_comments`).

It knows nothing of Kubernetes resources, large lists or functions: it imports only
`krmfn._errors` and its own modules.
"""
