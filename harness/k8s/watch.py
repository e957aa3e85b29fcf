"""A live copy of some API lists kept current by watch streams, with a callback on every event.

``Mirror(rest, ("nodes", None, ""), ("pods", "ns", "app=web"), on_event=f)`` lists each, then watches
from the list's resourceVersion in a daemon thread (again from the last version when the server ends
a watch, listed anew when that version is gone). After each event is applied ``on_event(items, at)``
runs under the mirror's lock with every object mirrored and the time the event was received, so
timings taken there are as fine as the events themselves (milliseconds), not a polling interval.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from harness.k8s.rest import ApiError, Rest

Watched = tuple[str, str | None, str]  # resource, namespace (None: all), label selector
OnEvent = Callable[[list[dict[str, Any]], float], None]
RETRY = 1.0  # seconds between attempts after an error (an API server restarting, a dropped stream)


class Mirror:
    def __init__(self, rest: Rest, *lists: Watched, on_event: OnEvent | None = None, window: int = 30) -> None:
        self.rest, self.lists, self.on_event, self.window = rest, lists, on_event, window
        self._objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.errors: list[str] = []  # what interrupted the streams (they recover), for a failure message
        self.failure: BaseException | None = None  # what on_event raised: the watcher stops there
        self._synced = False  # on_event sees every list or nothing

    def __enter__(self) -> Mirror:
        versions = [self._sync(watched) for watched in self.lists]  # the current state, in this thread
        with self._lock:
            self._synced = True
            self._notify(time.time())
        for watched in self.lists:
            thread = threading.Thread(target=self._run, args=(watched, versions.pop(0)), daemon=True,
                                      name=f"watch-{watched[0]}")  # fmt: skip
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]) -> None:
        self._stop.set()  # daemon threads end with their stream's window at the latest

    def items(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._objects.values())

    def stopped(self) -> bool:
        return self._stop.is_set()

    def _sync(self, watched: Watched) -> str:
        """List one watched resource into the mirror; its resourceVersion."""
        kind, namespace, labels = watched
        doc = self.rest.get(kind, namespace=namespace, labels=labels)
        with self._lock:
            for key in [k for k in self._objects if k[0] == kind]:
                del self._objects[key]
            for item in doc["items"]:
                self._objects[_key(kind, item)] = item
            self._notify(time.time())
        return str(doc["metadata"].get("resourceVersion", ""))

    def _run(self, watched: Watched, since: str) -> None:
        kind, namespace, labels = watched
        while not self._stop.is_set():
            try:
                since = since or self._sync(watched)
                for event in self.rest.watch(kind, namespace, labels, since=since, timeout=self.window):
                    if self._stop.is_set():
                        return
                    since = self._apply(kind, event.type, event.obj, event.at, since)
            except ApiError as exc:
                self.errors.append(f"{kind}: {exc}")
                since = ""
                self._stop.wait(RETRY)
            except Exception as exc:  # a dropped connection: watch again from the same version
                self.errors.append(f"{kind}: {type(exc).__name__}: {exc}")
                self._stop.wait(RETRY)

    def _apply(self, kind: str, type_: str, obj: dict[str, Any], at: float, since: str) -> str:
        """One event into the mirror; the resourceVersion to watch on from ("" to list again)."""
        if type_ == "ERROR":  # 410 Gone: the version is too old, list anew
            return ""
        version = str(obj.get("metadata", {}).get("resourceVersion", since))
        if type_ == "BOOKMARK":
            return version
        with self._lock:
            if type_ == "DELETED":
                self._objects.pop(_key(kind, obj), None)
            else:
                self._objects[_key(kind, obj)] = obj
            self._notify(at)
        return version

    def _notify(self, at: float) -> None:
        if self.on_event is None or self.failure is not None or not self._synced:
            return
        try:
            self.on_event(list(self._objects.values()), at)
        except BaseException as exc:  # an invariant broken: the waiter re-raises it
            self.failure = exc


def _key(kind: str, obj: dict[str, Any]) -> tuple[str, str, str]:
    meta = obj.get("metadata", {})
    return kind, meta.get("namespace", ""), meta.get("name", "")
