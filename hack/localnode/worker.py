"""One pod's life on the local node: prepare volumes, run init containers then containers as
processes, probe them, restart them per restartPolicy, report status, and stop them on deletion."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import netns, network, podspec
from .apierrors import backoff, describe, retryable
from .context import NodeContext
from .identity import NODE_MARKER
from .images import runtime_for
from .ipam import AddressesExhausted
from .probes import PodProbeContext, probe_container
from .status import (RUNNING, TERMINATED, WAITING, ContainerRecord, PodFailure, PodRecord, pod_status,
                     terminate_for_deletion, termination_reason, truncate_message)

log = logging.getLogger("localnode")
HERE = Path(__file__).resolve().parent
ENTER = HERE / "enter.py"
BACKOFF_START, BACKOFF_MAX, BACKOFF_RESET_AFTER = 10.0, 300.0, 600.0
KILL_GRACE_DEFAULT = 30
ADDRESS_RETRY_SECONDS = 1.0
FALLBACK_LOG_LINES = 80


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def exit_code_of(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


class PodWorker:
    def __init__(self, node: NodeContext, pod: dict[str, Any]):
        self.node = node
        self.pod = pod
        meta = pod["metadata"]
        self.uid = meta["uid"]
        self.key = f"{meta['namespace']}/{meta['name']}"
        self.dir = node.pods_dir / self.uid
        self.log_dir = node.logs_dir / f"{meta['namespace']}_{meta['name']}_{self.uid}"
        spec = pod["spec"]
        self.record = PodRecord(
            init_containers=[ContainerRecord(c["name"], c["image"]) for c in spec.get("initContainers", [])],
            containers=[ContainerRecord(c["name"], c["image"]) for c in spec.get("containers", [])],
            restart_policy=spec.get("restartPolicy", "Always"),
            pod_ip="",  # allocated when the pod starts (_run)
            start_time=pod.get("status", {}).get("startTime") or now(),
            sandbox_ready=False,
        )
        self.netns = f"{node.netns_prefix}{self.uid}"
        self.host_veth = "mlv" + self.uid.replace("-", "")[:12]
        self.processes: dict[str, asyncio.subprocess.Process] = {}
        self.kill_reasons: dict[str, str] = {}
        self.changed = asyncio.Event()
        self.stopping = asyncio.Event()
        self.objects = podspec.ReferencedObjects()
        self._published: dict[str, Any] | None = None
        self._final = False  # set when the pod will run nothing more: the publisher ends after it
        self._conditions: list[dict[str, Any]] = pod.get("status", {}).get("conditions", [])
        self.task = asyncio.create_task(self._run(), name=f"pod {self.key}")

    # --- entry points from the pod manager ----------------------------------------------------

    def observe(self, pod: dict[str, Any]) -> None:
        self.pod = pod
        if pod["metadata"].get("deletionTimestamp"):
            self.stopping.set()

    async def stop(self, grace: float | None = None) -> None:
        """Stops every process of the pod (SIGTERM, then SIGKILL after the grace period)."""
        self.stopping.set()
        if grace is None:
            grace = self.pod["metadata"].get("deletionGracePeriodSeconds")
            if grace is None:
                grace = self.pod["spec"].get("terminationGracePeriodSeconds", KILL_GRACE_DEFAULT)
        await asyncio.gather(*(self._kill(name, grace, "Killed") for name in list(self.processes)))
        self.task.cancel()
        try:
            await self.task
        except asyncio.CancelledError:
            pass

    async def report_deleted(self) -> None:
        """After stop(): the pod's last status, terminal, as a kubelet writes it before the pod goes."""
        terminate_for_deletion(self.record, now())
        await self._publish()

    async def release(self) -> None:
        """Gives back what the pod held on the node: its network namespace, address and files
        (logs stay for kubectl logs)."""
        await self._release_network()
        shutil.rmtree(self.dir, ignore_errors=True)

    async def _release_network(self) -> None:
        await network.delete_pod_network(self.netns)
        self.node.addresses.release(self.uid)

    # --- the pod's life -------------------------------------------------------------------------

    async def _run(self) -> None:
        publisher = asyncio.create_task(self._publish_loop(), name=f"publish {self.key}")
        deadline = asyncio.create_task(self._deadline())
        try:
            address = await self._acquire_address()
            if address is None:
                return
            self.record.pod_ip = address
            await network.create_pod_network(self.netns, self.host_veth, self.node.bridge, self.record.pod_ip,
                                             self.node.pod_cidr, self.node.service_cidr, self.node.service_router)
            self.record.sandbox_ready = True
            self.changed.set()
            try:
                volume_dirs = await self._prepare_volumes()
            except podspec.PodConfigError as error:
                self._fail_pod(error.reason, error.message)
                return
            if not await self._run_init_containers(volume_dirs):
                return
            await asyncio.gather(*(self._container_loop(c, volume_dirs) for c in self.pod["spec"]["containers"]))
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.exception("pod %s: unexpected error", self.key)
            self._fail_pod("LocalNodeError", f"the local node could not run the pod: {error!r}")
        finally:
            deadline.cancel()
            if self.stopping.is_set():
                publisher.cancel()  # the pod is being deleted; its status no longer matters
            else:
                self._final = True  # the publisher publishes the last state, then ends
            self.changed.set()
            try:
                await publisher  # cancelling _run here cancels the publisher too
            except asyncio.CancelledError:
                if self.task.cancelling():  # not only the publisher we cancelled: we are stopped
                    raise
            if not self.stopping.is_set():
                # A pod that will run nothing more (Succeeded or Failed) gives its network
                # namespace and address back, as the kubelet removes the sandbox: a Job's finished
                # pods must not hold the CIDR. The address stays in its status; the pool hands out
                # fresh addresses before reused ones.
                await self._release_network()

    async def _acquire_address(self) -> str | None:
        """The pod's address; while the pod CIDR has none free, the pod waits (ContainerCreating)
        until a pod gives one back. None when the pod is stopped meanwhile."""
        waiting = False
        while not self.stopping.is_set():
            try:
                return self.node.addresses.address_for(self.uid)
            except AddressesExhausted as error:
                if not waiting:
                    waiting = True
                    log.warning("pod %s: %s; waiting for a pod to give one back", self.key, error)
                    for record in [*self.record.init_containers, *self.record.containers]:
                        record.message = f"waiting for a free pod address: {error}"
                    self.changed.set()
                try:
                    await asyncio.wait_for(self.stopping.wait(), ADDRESS_RETRY_SECONDS)
                except TimeoutError:
                    pass
        return None

    def _fail_pod(self, reason: str, message: str) -> None:
        log.info("pod %s failed: %s: %s", self.key, reason, message)
        self.record.failure = PodFailure(reason, message)
        for record in [*self.record.init_containers, *self.record.containers]:
            if record.state == WAITING:
                record.reason, record.message = reason, message
        self.changed.set()

    async def _deadline(self) -> None:
        seconds = self.pod["spec"].get("activeDeadlineSeconds")
        if not seconds:
            return
        started = datetime.strptime(self.record.start_time, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        remaining = seconds - (datetime.now(UTC) - started).total_seconds()
        await asyncio.sleep(max(0.0, remaining))
        self._fail_pod("DeadlineExceeded",
                       f"Pod was active on the node longer than the specified deadline ({seconds}s)")
        grace = self.pod["spec"].get("terminationGracePeriodSeconds", KILL_GRACE_DEFAULT)
        await asyncio.gather(*(self._kill(name, grace, "DeadlineExceeded") for name in list(self.processes)))

    async def _prepare_volumes(self) -> dict[str, str]:
        self.objects = await self.node.api.referenced_objects(self.pod)
        plans = podspec.volume_plans(self.pod, self.objects, self.record.pod_ip)
        dirs = {}
        for plan in plans:
            if plan.host_path is not None:
                if plan.create_host_path:
                    os.makedirs(plan.host_path, exist_ok=True)
                dirs[plan.name] = plan.host_path
                continue
            folder = self.dir / "volumes" / plan.name
            folder.mkdir(parents=True, exist_ok=True)
            for relative, (content, mode) in (plan.files or {}).items():
                path = folder / relative
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
                path.chmod(mode)
            dirs[plan.name] = str(folder)
        return dirs

    async def _run_init_containers(self, volume_dirs: dict[str, str]) -> bool:
        for container, record in zip(self.pod["spec"].get("initContainers", []), self.record.init_containers,
                                     strict=True):
            while True:
                exit_code = await self._run_once(container, record, volume_dirs, probes=False)
                if exit_code is None or self.stopping.is_set() or self.record.failure:
                    return False
                if exit_code == 0:
                    break
                if self.record.restart_policy == "Never":
                    return False
                await self._back_off(record)
        return True

    async def _container_loop(self, container: dict[str, Any], volume_dirs: dict[str, str]) -> None:
        record = next(r for r in self.record.containers if r.name == container["name"])
        while True:
            exit_code = await self._run_once(container, record, volume_dirs, probes=True)
            if exit_code is None or self.stopping.is_set() or self.record.failure:
                return
            policy = self.record.restart_policy
            if policy == "Never" or (policy == "OnFailure" and exit_code == 0):
                return
            await self._back_off(record)

    async def _back_off(self, record: ContainerRecord) -> None:
        record.last_terminated = record.terminated_dict()
        record.restart_count += 1
        ran_for = _seconds_between(record.started_at, record.finished_at)
        delay = 0.0 if ran_for >= BACKOFF_RESET_AFTER else min(BACKOFF_MAX,
                                                               BACKOFF_START * 2 ** (record.restart_count - 1))
        record.state, record.reason = WAITING, "CrashLoopBackOff"
        record.message = (f"back-off {delay:.0f}s restarting failed container={record.name} "
                          f"pod={self.pod['metadata']['name']}")
        record.ready = False
        self.changed.set()
        await asyncio.sleep(delay)

    async def _run_once(self, container: dict[str, Any], record: ContainerRecord, volume_dirs: dict[str, str],
                        probes: bool) -> int | None:
        """Starts the container once and waits for it; None when it could not start."""
        runtime = runtime_for(container["image"], self.node.python)
        if runtime is None:
            record.state, record.reason = WAITING, "ImageNotRunnableLocally"
            record.message = (f"image {container['image']!r} has no local runtime; the local node runs python:3.x "
                              f"images and the project's runtime image (see docs/operations.md)")
            self.changed.set()
            await self.stopping.wait()
            return None
        while True:
            try:
                env = self._environment(container, runtime.bin_dir)
                argv = podspec.container_argv(container, runtime.default_command, env)
                argv[0] = runtime.executable(argv[0])
                work = self.dir / "containers" / container["name"]
                work.mkdir(parents=True, exist_ok=True)
                termination_file = work / "termination-log"
                termination_file.write_bytes(b"")
                mounts = podspec.container_mounts(container, volume_dirs, str(termination_file))
                break
            except podspec.PodConfigError as error:
                record.state, record.reason, record.message = WAITING, error.reason, error.message
                self.changed.set()
                if error.reason == "VolumeNotSupportedLocally":
                    self._fail_pod(error.reason, error.message)
                    return None
                # Like the kubelet: a missing ConfigMap or Secret key may appear; try again.
                await asyncio.sleep(self.node.config_retry_seconds)
                self.objects = await self.node.api.referenced_objects(self.pod)
        plan = work / "plan.json"
        plan.write_text(json.dumps({
            "mounts": [{"source": m.source, "target": m.target, "read_only": m.read_only} for m in mounts],
            "cwd": container.get("workingDir") or str(work),
            "argv": argv,
            "image_paths": list(runtime.image_paths),
        }))
        self.log_dir.joinpath(container["name"]).mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / container["name"] / f"{record.restart_count}.log"
        with open(log_path, "ab") as log_file:
            process = await asyncio.create_subprocess_exec(
                *self.in_pod_network, "unshare", "--mount", "--propagation", "private", "--",
                sys.executable, str(ENTER), str(plan),
                env=env, stdin=asyncio.subprocess.DEVNULL, stdout=log_file, stderr=log_file,
                start_new_session=True,
            )
        self.processes[container["name"]] = process
        record.pid = process.pid
        record.state, record.reason, record.message = RUNNING, "", ""
        record.started_at, record.finished_at, record.exit_code = now(), None, None
        record.started = "startupProbe" not in container
        record.ready = record.started and "readinessProbe" not in container
        self.changed.set()
        probe_task = asyncio.create_task(probe_container(self._probe_context(), container, record, env)) \
            if probes else None
        try:
            returncode = await process.wait()
        finally:
            if probe_task:
                probe_task.cancel()
            self.processes.pop(container["name"], None)
        exit_code = exit_code_of(returncode)
        message = truncate_message(termination_file.read_bytes())
        if not message and exit_code != 0 and container.get("terminationMessagePolicy") == "FallbackToLogsOnError":
            message = truncate_message(b"\n".join(log_path.read_bytes().splitlines()[-FALLBACK_LOG_LINES:]))
        record.state, record.exit_code, record.finished_at = TERMINATED, exit_code, now()
        record.reason = termination_reason(exit_code, self.kill_reasons.pop(container["name"], None))
        record.message = message
        record.ready = False
        self.changed.set()
        return exit_code

    def _environment(self, container: dict[str, Any], runtime_bin: str) -> dict[str, str]:
        base = {
            "PATH": f"{runtime_bin}:{os.environ.get('PATH', '/usr/local/bin:/usr/bin:/bin')}",
            "HOSTNAME": self.pod["metadata"]["name"],
            "HOME": str(self.dir / "home"),
            "PYTHONUNBUFFERED": "1",
            NODE_MARKER: self.node.identity,
        }
        if self.node.service_cidr:  # as a kubelet does; the container's own env, applied after, may override them
            base = {**podspec.kubernetes_service_env(self.node.service_cidr), **base}
        (self.dir / "home").mkdir(parents=True, exist_ok=True)
        return podspec.container_env(self.pod, container, self.objects, self.record.pod_ip, base)

    def _probe_context(self) -> PodProbeContext:
        return PodProbeContext(
            key=self.key, pod_ip=self.record.pod_ip, exec_prefix=self.in_pod_network, changed=self.changed,
            kill=self._kill, default_grace=self.pod["spec"].get("terminationGracePeriodSeconds", KILL_GRACE_DEFAULT))

    @property
    def in_pod_network(self) -> tuple[str, ...]:
        """Command prefix that runs a program inside the pod's network namespace."""
        return ("nsenter", f"--net={netns.namespace_path(self.netns)}", "--")

    async def _kill(self, name: str, grace: float, reason: str) -> None:
        process = self.processes.get(name)
        if process is None or process.returncode is not None:
            return
        self.kill_reasons[name] = reason
        try:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), grace)
            except TimeoutError:
                os.killpg(process.pid, signal.SIGKILL)
                await process.wait()
        except ProcessLookupError:
            pass
        # Anything the container left behind in its group goes too.
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    # --- status ---------------------------------------------------------------------------------

    async def _publish_loop(self) -> None:
        """Publishes each change of status. A publish that failed in a way that heals (the API
        server restarting: refused connections, 5xx, 429) is tried again with backoff even if
        nothing changes: the last state, a container's exit above all, changes nothing after it."""
        failures = 0
        while True:
            if failures:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.changed.wait(), backoff(failures))
            else:
                await self.changed.wait()
            final = self._final
            self.changed.clear()
            if not await self._publish():
                failures += 1
                continue
            failures = 0
            if final:
                return

    async def _publish(self) -> bool:
        """Patches the pod's status if it changed; False when that failed and is worth retrying."""
        status = pod_status(self.record, self._conditions, now())
        if status == self._published:
            return True
        meta = self.pod["metadata"]
        try:
            await self.node.api.patch_pod_status(meta["namespace"], meta["name"], status)
        except Exception as error:
            log.debug("pod %s: status patch failed: %s", self.key, describe(error))
            # Anything else (the pod gone, above all) will not heal; a later change tries again.
            return not retryable(error)
        self._published = status
        self._conditions = status["conditions"]
        return True


def _seconds_between(start: str | None, end: str | None) -> float:
    if not start or not end:
        return 0.0
    parse = lambda s: datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()
