"""Readiness, liveness and startup probes with the kubelet's semantics."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from .status import ContainerRecord

log = logging.getLogger("localnode")


@dataclass
class ProbeSettings:
    initial_delay: float
    period: float
    timeout: float
    success_threshold: int
    failure_threshold: int

    @classmethod
    def of(cls, probe: dict[str, Any]) -> ProbeSettings:
        return cls(
            initial_delay=probe.get("initialDelaySeconds", 0),
            period=probe.get("periodSeconds", 10),
            timeout=probe.get("timeoutSeconds", 1),
            success_threshold=probe.get("successThreshold", 1),
            failure_threshold=probe.get("failureThreshold", 3),
        )


class ProbeTracker:
    """Consecutive results against the thresholds; `verdict` flips only when one is reached."""

    def __init__(self, settings: ProbeSettings, initial: bool):
        self.settings = settings
        self.verdict = initial
        self._successes = 0
        self._failures = 0

    def record(self, success: bool) -> bool:
        """Records one result; returns True when the verdict changed."""
        if success:
            self._successes, self._failures = self._successes + 1, 0
            if not self.verdict and self._successes >= self.settings.success_threshold:
                self.verdict = True
                return True
        else:
            self._failures, self._successes = self._failures + 1, 0
            if self.verdict is not False and self._failures >= self.settings.failure_threshold:
                self.verdict = False
                return True
        return False


def resolve_port(port: int | str, container: dict[str, Any]) -> int:
    if isinstance(port, int) or str(port).isdigit():
        return int(port)
    for declared in container.get("ports", []):
        if declared.get("name") == port:
            return int(declared["containerPort"])
    raise ValueError(f"named port {port!r} is not declared by the container")


async def run_check(probe: dict[str, Any], container: dict[str, Any], pod_ip: str, env: dict[str, str],
                    timeout: float, exec_prefix: tuple[str, ...] = ()) -> bool:
    """One probe attempt: True on success."""
    try:
        if "httpGet" in probe:
            spec = probe["httpGet"]
            host = spec.get("host") or pod_ip
            port = resolve_port(spec["port"], container)
            url = f"{spec.get('scheme', 'HTTP').lower()}://{host}:{port}{spec.get('path', '/')}"
            headers = {h["name"]: h["value"] for h in spec.get("httpHeaders", [])}
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
                async with session.get(url, headers=headers, ssl=False, allow_redirects=True) as response:
                    return 200 <= response.status < 400
        if "tcpSocket" in probe:
            spec = probe["tcpSocket"]
            host = spec.get("host") or pod_ip
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(host, resolve_port(spec["port"], container)), timeout)
            writer.close()
            return True
        if "exec" in probe:
            process = await asyncio.create_subprocess_exec(
                *exec_prefix, *probe["exec"]["command"], env=env, stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL, start_new_session=True)
            try:
                return await asyncio.wait_for(process.wait(), timeout) == 0
            except TimeoutError:
                os.killpg(process.pid, 9)
                await process.wait()
                return False
    except (TimeoutError, OSError, aiohttp.ClientError, ValueError):
        return False
    return False


@dataclass(frozen=True)
class PodProbeContext:
    """What probing a container needs of its pod's worker."""

    key: str  # namespace/name, for the log
    pod_ip: str
    exec_prefix: tuple[str, ...]  # runs an exec probe in the pod's network namespace
    changed: asyncio.Event  # set when a verdict changes the container's record
    kill: Callable[[str, float, str], Awaitable[None]]  # (container, grace, reason)
    default_grace: float  # the pod's terminationGracePeriodSeconds


async def probe_container(pod: PodProbeContext, container: dict[str, Any], record: ContainerRecord,
                          env: dict[str, str]) -> None:
    """Runs the container's probes while it runs: startup first, then readiness and liveness."""
    if "startupProbe" in container:
        if not await _probe_loop(pod, container, record, env, "startupProbe", initial=False, until_success=True):
            return
        record.started = True
        record.ready = "readinessProbe" not in container
        pod.changed.set()
    loops = []
    if "readinessProbe" in container:
        loops.append(_probe_loop(pod, container, record, env, "readinessProbe", initial=False))
    if "livenessProbe" in container:
        loops.append(_probe_loop(pod, container, record, env, "livenessProbe", initial=True))
    await asyncio.gather(*loops)


async def _probe_loop(pod: PodProbeContext, container: dict[str, Any], record: ContainerRecord, env: dict[str, str],
                      kind: str, initial: bool, until_success: bool = False) -> bool:
    probe = container[kind]
    settings = ProbeSettings.of(probe)
    tracker = ProbeTracker(settings, initial)
    await asyncio.sleep(settings.initial_delay)
    while True:
        success = await run_check(probe, container, pod.pod_ip, env, settings.timeout, pod.exec_prefix)
        if tracker.record(success):
            if kind == "readinessProbe":
                record.ready = tracker.verdict
                pod.changed.set()
            elif tracker.verdict is False:  # liveness or startup failed: the kubelet kills it
                grace = probe.get("terminationGracePeriodSeconds", pod.default_grace)
                log.info("pod %s container %s failed its %s; killing it", pod.key, record.name, kind)
                await pod.kill(record.name, grace, "Error")
                return False
            elif until_success:
                return True
        await asyncio.sleep(settings.period)
