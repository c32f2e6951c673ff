"""The labels hotstack puts on its containers and images, and reads back from podman."""

from __future__ import annotations

SERVICE_LABEL = "io.hotstack.service"  # the catalog name of the service a container runs
HASH_LABEL = "io.hotstack.config-hash"  # its rendered definition and files: `up` recreates on change
IMAGE_LABEL = "io.hotstack.image"  # set by every hotstack image (Containerfile LABEL)
WORKDIR_LABEL = "com.docker.compose.project.working_dir"  # podman-compose's: where the project lives
