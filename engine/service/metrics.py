"""Metrics in Prometheus' text exposition format (``GET /metrics``).

A handful of counters, gauges and one latency histogram, kept in this process (with several
workers, each worker answers for itself: scrape each, or run one worker per container). Written
here rather than with a client library because the service needs only these few and
the format is plain text.
"""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict

#: Upper bounds of the latency histogram, in seconds.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """Counters by label set, and request latency per operation."""

    def __init__(self):
        self._lock = threading.Lock()
        self.requests = defaultdict(int)            # (operation, status) -> count
        self.evaluations = defaultdict(int)         # outcome -> count
        self.reloads = defaultdict(int)             # outcome -> count
        self.latency = {}                           # operation -> [bucket counts..., sum, count]

    def observe(self, operation: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(operation, status)] += 1
            row = self.latency.get(operation)
            if row is None:
                row = self.latency[operation] = [0] * len(BUCKETS) + [0.0, 0]
            index = bisect.bisect_left(BUCKETS, seconds)
            if index < len(BUCKETS):
                row[index] += 1
            row[-2] += seconds
            row[-1] += 1

    def evaluated(self, outcome: str, count: int = 1) -> None:
        with self._lock:
            self.evaluations[outcome] += count

    def reloaded(self, outcome: str) -> None:
        with self._lock:
            self.reloads[outcome] += 1

    def render(self, fingerprint: str, running: int, waiting: int) -> str:
        lines = []

        def family(name, kind, text):
            lines.append(f"# HELP {name} {text}")
            lines.append(f"# TYPE {name} {kind}")

        with self._lock:
            family("policy_http_requests_total", "counter", "HTTP requests answered, by operation and status.")
            for (operation, status), count in sorted(self.requests.items()):
                lines.append(f'policy_http_requests_total{{operation="{operation}",status="{status}"}} {count}')
            family("policy_http_request_duration_seconds", "histogram", "Time to answer a request, by operation.")
            for operation, row in sorted(self.latency.items()):
                cumulative = 0
                for bound, count in zip(BUCKETS, row):
                    cumulative += count
                    lines.append(f'policy_http_request_duration_seconds_bucket{{operation="{operation}",le="{bound:g}"}} {cumulative}')
                lines.append(f'policy_http_request_duration_seconds_bucket{{operation="{operation}",le="+Inf"}} {row[-1]}')
                lines.append(f'policy_http_request_duration_seconds_sum{{operation="{operation}"}} {row[-2]:.6f}')
                lines.append(f'policy_http_request_duration_seconds_count{{operation="{operation}"}} {row[-1]}')
            family("policy_evaluations_total", "counter", "Cases evaluated (single and batch), by outcome.")
            for outcome, count in sorted(self.evaluations.items()):
                lines.append(f'policy_evaluations_total{{outcome="{outcome}"}} {count}')
            family("policy_rulebook_reloads_total", "counter", "Rulebook reloads, by outcome.")
            for outcome, count in sorted(self.reloads.items()):
                lines.append(f'policy_rulebook_reloads_total{{outcome="{outcome}"}} {count}')
        family("policy_evaluations_running", "gauge", "Evaluations running now in this worker.")
        lines.append(f"policy_evaluations_running {running}")
        family("policy_evaluations_waiting", "gauge", "Evaluations waiting for a thread in this worker.")
        lines.append(f"policy_evaluations_waiting {waiting}")
        family("policy_rulebooks_info", "gauge", "The rulebook set being served (always 1), by fingerprint.")
        lines.append(f'policy_rulebooks_info{{fingerprint="{fingerprint}"}} 1')
        return "\n".join(lines) + "\n"
