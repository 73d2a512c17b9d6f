"""Prometheus metrics: a per-app registry read at scrape time from the room registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from crdt.rooms import Rooms


class RoomsCollector:
    def __init__(self, rooms: Rooms) -> None:
        self.rooms = rooms

    def collect(self):
        rooms, stats = self.rooms, self.rooms.stats
        yield GaugeMetricFamily("quire_open_rooms", "Documents open in memory", value=len(rooms))
        yield GaugeMetricFamily("quire_connections", "Open WebSocket connections",
                                value=rooms.connection_count)
        counters = {
            "quire_updates_applied": ("Document updates applied", stats.updates_applied),
            "quire_updates_persisted": ("Document updates committed to the database",
                                        stats.updates_persisted),
            "quire_persist_failures": ("Commits that failed", stats.persist_failures),
            "quire_frames_rejected": ("Malformed frames that closed their connection",
                                      stats.frames_rejected),
            "quire_bytes_in": ("Bytes received in protocol frames", stats.bytes_in),
            "quire_bytes_out": ("Bytes sent in protocol frames", stats.bytes_out),
            "quire_messages_out": ("Protocol frames sent", stats.messages_out),
            "quire_compactions": ("Log compactions into snapshots", stats.compactions),
            "quire_updates_refused": ("Client updates refused for going beyond their role",
                                      stats.updates_refused),
            "quire_updates_quarantined": ("Stored or relayed updates left out because pycrdt "
                                          "could not read them safely",
                                          stats.updates_quarantined),
            "quire_awareness_dropped": ("Presence frames dropped beyond a connection's rate",
                                        stats.awareness_dropped),
        }
        for name, (doc, value) in counters.items():
            yield CounterMetricFamily(name, doc, value=value)


class RelayCollector:
    def __init__(self, relay) -> None:
        self.relay = relay

    def collect(self):
        stats = self.relay.stats
        yield GaugeMetricFamily("quire_relay_connected", "1 when subscribed to Redis",
                                value=1 if self.relay.connected else 0)
        yield GaugeMetricFamily("quire_relay_subscribed_documents",
                                "Documents whose Redis channel this process listens to",
                                value=stats.subscribed)
        for name, doc, value in (
            ("quire_relay_published", "Messages published to other processes", stats.published),
            ("quire_relay_publish_errors", "Messages Redis did not take", stats.publish_errors),
            ("quire_relay_received", "Messages received from other processes", stats.received),
            ("quire_relay_applied", "Relayed messages applied to open rooms", stats.applied),
            ("quire_relay_gaps", "Gaps detected in a sender's sequence", stats.gaps),
            ("quire_relay_catchups", "Rooms caught up from the database", stats.catchups),
            ("quire_relay_reconnects", "Redis subscription reconnects", stats.reconnects),
        ):
            yield CounterMetricFamily(name, doc, value=value)


class OpenerCollector:
    def __init__(self, opener) -> None:
        self.opener = opener

    def collect(self):
        yield CounterMetricFamily("quire_opens_asked", "WebSocket handshakes that asked the "
                                  "database who may open a document", value=self.opener.asks)
        yield CounterMetricFamily("quire_open_visits", "Worker-thread visits that answered them "
                                  "(handshakes in flight share one)", value=self.opener.visits)


def make_registry(rooms: Rooms, relay=None, opener=None) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(RoomsCollector(rooms))
    if opener is not None:
        registry.register(OpenerCollector(opener))
    if relay is not None:
        registry.register(RelayCollector(relay))
        lag = Histogram("quire_relay_lag_seconds", "Publish-to-receive delay between processes",
                        registry=registry,
                        buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0))
        relay.stats.lag_observers.append(lag.observe)
    persist = Histogram(
        "quire_persist_seconds",
        "Time for a group of updates to become durable",
        registry=registry,
        buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0),
    )
    rooms.stats.persist_observers.append(persist.observe)
    return registry
