"""The repository's copy of the published privacy policy is the one NexK published."""

from __future__ import annotations

from compliance.crosscheck import REPO_ROOT, SEED_POLICY

SHARED_COPY = REPO_ROOT.parent / "shared" / "seed" / "privacy-policy.txt"


def test_the_published_policy_is_kept_verbatim_in_the_repository():
    text = SEED_POLICY.read_text(encoding="utf-8")
    assert text.startswith("Privacy policy\nHow we process your personal data in the myNexK portal")
    assert "Last updated: May 9, 2026" in text
    # Where the team's shared folder sits next to the clone, the two copies must not drift apart.
    if SHARED_COPY.exists():
        assert SHARED_COPY.read_text(encoding="utf-8") == text
