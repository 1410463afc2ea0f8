"""Allocation of IP prefixes and VLAN IDs for claims, shared by ipam-inject and vlan-assign.

Pure logic over dataclasses, no YAML. Import what you use from its module, so that code
without a ledger never loads sqlite3 or psycopg (addresses are plain integers, read and written
with the standard library's `ipaddress`: see `_prefix`):

- `ipam`: `allocate_ips(instances, claims, ledger=None)`
- `vlan`: `allocate_vlans(indexes, claims, ledger=None)`
- `results`: `AllocationResult` (allocations by owner key, per-claim errors)
- `ledger`: the `Ledger` protocol, `PackageLedger`, `LedgerError`
- `backends`: `open_ledger(location)`, an SQLite file or a PostgreSQL database by its
  location; `KRMFN_LEDGER` and how it ranks against a configured ledger
- `sqlite_ledger`: `SqliteLedger(path)`, one file shared by concurrent renders
- `postgres_ledger`: `PostgresLedger(location)`, one database shared by many machines
"""
