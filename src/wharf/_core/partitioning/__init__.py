"""Partitioned assets: definitions (static, time-window, multi, dynamic), the mappings between
upstream and downstream partitions, what a context knows of its partitions, and backfill runs.

``definitions`` and ``time_windows`` hold the public definitions; ``mappings`` the
``PartitionMapping`` family; ``info`` the partition facts contexts expose; ``runs`` how one
materialization per partition key is planned and recorded.
"""
