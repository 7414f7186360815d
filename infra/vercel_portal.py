"""VercelPortal: the portal's hosting at Vercel Inc. (USA, under SCC), functions pinned to Frankfurt (fra1).

The project builds the FastAPI app from git (`app/index.py`, see vercel.json), previews sit behind Vercel
Authentication, and the environment variables carry what the other subprocessors produced.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumiverse_vercel as vercel

from infra.settings import StackSettings

ALL_TARGETS = ("production", "preview", "development")
# Secrets stay out of the development target by our choice, not Vercel's: the provider documents sensitive
# variables as "supported in all target environments, including Development" (pulumiverse-vercel 5.x,
# ProjectEnvironmentVariable.sensitive, from terraform-provider-vercel), but development values exist to be
# copied to laptops (`vercel env pull`, `vercel dev`), and production credentials do not belong there.
SECRET_TARGETS = ("production", "preview")


@dataclass(frozen=True)
class EnvVar:
    value: pulumi.Input[str]
    sensitive: bool
    comment: str

    @property
    def targets(self) -> list[str]:
        return list(SECRET_TARGETS if self.sensitive else ALL_TARGETS)


class VercelPortal(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        settings: StackSettings,
        *,
        env: Mapping[str, EnvVar],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("nexk:hosting:VercelPortal", name, None, opts)
        portal = settings.portal
        child = pulumi.ResourceOptions(parent=self)

        self.project = vercel.Project(
            "project",
            name=portal.vercel_project_name,
            framework="fastapi",
            git_repository={
                "type": "github",
                "repo": portal.git_repository,
                "production_branch": portal.production_branch,
            },
            resource_config={"function_default_regions": list(portal.function_regions)},
            # Never fail over out of the region the register states.
            function_failover=False,
            vercel_authentication={"deployment_type": portal.preview_protection},
            automatically_expose_system_environment_variables=True,
            git_fork_protection=True,
            protected_sourcemaps=True,
            opts=child,
        )
        self.domain = vercel.ProjectDomain(
            "domain", project_id=self.project.id, domain=portal.domain, opts=child
        )
        self.env: dict[str, vercel.ProjectEnvironmentVariable] = {}
        for key, var in env.items():
            self.env[key] = vercel.ProjectEnvironmentVariable(
                f"env-{key.lower().replace('_', '-')}",
                project_id=self.project.id,
                key=key,
                value=pulumi.Output.secret(var.value) if var.sensitive else var.value,
                sensitive=var.sensitive,
                targets=var.targets,
                comment=var.comment,
                opts=child,
            )
        self.url = f"https://{portal.domain}"
        self.register_outputs({"projectId": self.project.id, "url": self.url})
