"""Running functions: the `@krmfn.function` decorator and its run rules (`function`), a
function's command line (`cli_function`) and the `krmfn` command (`cli`), packages read
from and written back to files (`package`, `package_walk`, `krmignore`, `commit`).

The top layer of the SDK below the public names (`krmfn`, `krmfn.testing`): it may import
every other layer, and none of them imports it.
"""
