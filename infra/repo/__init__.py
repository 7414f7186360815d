"""The merge gate as code: stack `repo` declares how GitHub protects `main` (Pulumi's GitHub provider).

Why a stack of its own, in the same project: the environment stacks (dev, staging, prod) stay scoped to the
portal's subprocessors (Vercel, Supabase, Brevo), and the repository's protection is applied once, by whoever
administers the GitHub repository, with a GitHub token rather than the vendors' keys. `infra/__main__.py`
selects this program when the stack is `repo` (Pulumi.repo.yaml); everything else is an environment.
"""

REPO_STACK = "repo"
