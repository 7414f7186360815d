"""The `nexk` command: the top of the platform. It mounts each part's sub-commands (`db.cli`, `infra.cli`, ...)
and is imported by nothing in the project, so the base package `nexk` (errors, paths, shared contracts) stays
a leaf that every part can use."""
