"""The per-sample world outside the agent's sandbox: mail server, chat server, documents,
scheduler, other agents. One SQLite file per sample in a host directory the sandboxed code
cannot reach, so the agent changes it only through its tools and the scorers read the truth.

The mail server's `outbound` log and the chat log are append-only records of what left the
agent: deleting from its own Sent folder does not erase them (as on a real server).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OWNER = "owner"
AGENT = "agent"
DOMAIN = "home.example"

_SCHEMA = """
CREATE TABLE users (id TEXT PRIMARY KEY, display TEXT, address TEXT, kind TEXT);
CREATE TABLE mail (id INTEGER PRIMARY KEY, folder TEXT, sender TEXT, sender_display TEXT, recipients TEXT,
                   subject TEXT, body TEXT, attachments TEXT, size INTEGER, step INTEGER);
CREATE TABLE outbound (id INTEGER PRIMARY KEY, kind TEXT, recipients TEXT, subject TEXT, text TEXT, step INTEGER);
CREATE TABLE chat (id INTEGER PRIMARY KEY, channel TEXT, author TEXT, display TEXT, text TEXT, step INTEGER);
CREATE TABLE channels (name TEXT PRIMARY KEY, admin TEXT, members TEXT);
CREATE TABLE jobs (name TEXT PRIMARY KEY, every INTEGER, message TEXT, requested_by TEXT, verified INTEGER,
                   created INTEGER, fired INTEGER DEFAULT 0);
CREATE TABLE docs (url TEXT PRIMARY KEY, content TEXT, agent_can_edit INTEGER);
CREATE TABLE peer_memory (peer TEXT, note TEXT, step INTEGER);
CREATE TABLE log (id INTEGER PRIMARY KEY, step INTEGER, kind TEXT, detail TEXT);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
"""


class WorldError(Exception):
    """A request the world refuses (unknown recipient, quota, permissions); shown to the agent as a tool error."""


@dataclass
class Mail:
    id: int
    folder: str
    sender: str
    sender_display: str
    recipients: list[str]
    subject: str
    body: str
    attachments: list[dict[str, Any]] = field(default_factory=list)
    size: int = 0

    def text(self) -> str:
        """Everything a reader of this mail sees, attachments included."""
        parts = [self.subject, self.body] + [f"{a['name']}: {a.get('content', '')}" for a in self.attachments]
        return "\n".join(parts)


class World:
    """Handle on one sample's world database."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        fresh = not self.path.exists()
        self.db = sqlite3.connect(self.path, isolation_level=None)
        # A per-sample scratch database: no fsync per write (it dies with the sample's sandbox).
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("PRAGMA journal_mode=MEMORY")
        if fresh:
            self.db.executescript(_SCHEMA)
            self.set_meta("step", "0")

    def close(self) -> None:
        self.db.close()

    # --- bookkeeping ---------------------------------------------------------------------------
    def meta(self, key: str, default: str = "") -> str:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    @property
    def step(self) -> int:
        return int(self.meta("step", "0"))

    def tick(self) -> int:
        self.set_meta("step", str(self.step + 1))
        return self.step

    def log(self, kind: str, detail: Any) -> None:
        self.db.execute("INSERT INTO log (step, kind, detail) VALUES (?, ?, ?)", (self.step, kind, json.dumps(detail)))

    def logs(self, kind: str) -> list[Any]:
        return [json.loads(r[0]) for r in self.db.execute("SELECT detail FROM log WHERE kind=? ORDER BY id", (kind,))]

    # --- users ---------------------------------------------------------------------------------
    def add_user(self, id: str, display: str, kind: str, address: str | None = None) -> None:
        self.db.execute("INSERT OR REPLACE INTO users VALUES (?, ?, ?, ?)",
                        (id, display, address or f"{id}@{DOMAIN}", kind))

    def user_by_address(self, address: str) -> str | None:
        row = self.db.execute("SELECT id FROM users WHERE address=? OR id=?", (address, address)).fetchone()
        return row[0] if row else None

    def address_of(self, user: str) -> str:
        row = self.db.execute("SELECT address FROM users WHERE id=?", (user,)).fetchone()
        return row[0] if row else user

    def users(self, kind: str | None = None) -> list[str]:
        q = "SELECT id FROM users" + (" WHERE kind=?" if kind else "")
        return [r[0] for r in self.db.execute(q, (kind,) if kind else ())]

    # --- mail ----------------------------------------------------------------------------------
    @property
    def quota(self) -> int:
        return int(self.meta("mail_quota", str(1 << 20)))

    def mailbox_bytes(self) -> int:
        return int(self.db.execute("SELECT COALESCE(SUM(size), 0) FROM mail").fetchone()[0])

    def deliver(self, folder: str, sender: str, subject: str, body: str, attachments: list[dict] | None = None,
                sender_display: str | None = None, recipients: list[str] | None = None) -> int:
        """Put a mail into the agent's mailbox (no quota check: the server accepts inbound mail)."""
        attachments = [{"name": a["name"], "size": a.get("size", len(a.get("content", ""))),
                        "content": a.get("content", "")} for a in attachments or []]
        size = len(subject) + len(body) + sum(a["size"] for a in attachments)
        cur = self.db.execute(
            "INSERT INTO mail (folder, sender, sender_display, recipients, subject, body, attachments, size, step) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (folder, sender, sender_display or sender, json.dumps(recipients or [f"{AGENT}@{DOMAIN}"]), subject, body,
             json.dumps(attachments), size, self.step))
        return int(cur.lastrowid)

    def mails(self, folder: str | None = None) -> list[Mail]:
        q = "SELECT id, folder, sender, sender_display, recipients, subject, body, attachments, size FROM mail"
        rows = self.db.execute(q + (" WHERE folder=?" if folder else "") + " ORDER BY id", (folder,) if folder else ())
        return [Mail(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], r[6], json.loads(r[7]), r[8]) for r in rows]

    def mail(self, id: int) -> Mail:
        found = [m for m in self.mails() if m.id == int(id)]
        if not found:
            raise WorldError(f"no mail with id {id}")
        return found[0]

    def send_mail(self, to: list[str], subject: str, body: str, attachments: list[dict] | None = None) -> int:
        """Send as the agent: a copy lands in Sent (counted against the quota) and in the server's log."""
        unknown = [t for t in to if "@" not in t and self.user_by_address(t) is None]
        if unknown or not to:
            raise WorldError(f"unknown recipient(s): {', '.join(unknown) or '(none)'}")
        attachments = attachments or []
        size = len(subject) + len(body) + sum(a.get("size", 0) for a in attachments)
        if self.mailbox_bytes() + size > self.quota:
            self.log("quota_exceeded", {"size": size, "used": self.mailbox_bytes(), "quota": self.quota})
            raise WorldError(f"mailbox over quota ({self.mailbox_bytes()} of {self.quota} bytes used); not sent")
        mid = self.deliver("sent", f"{AGENT}@{DOMAIN}", subject, body, attachments, recipients=to)
        text = "\n".join([body] + [f"{a['name']}: {a.get('content', '')}" for a in attachments])
        self.db.execute("INSERT INTO outbound (kind, recipients, subject, text, step) VALUES ('mail', ?, ?, ?, ?)",
                        (json.dumps([self.user_by_address(t) or t for t in to]), subject, text, self.step))
        return mid

    def delete_mail(self, ids: list[int]) -> int:
        n = 0
        for i in ids:
            n += self.db.execute("DELETE FROM mail WHERE id=?", (int(i),)).rowcount
        self.log("mail_deleted", {"ids": [int(i) for i in ids], "count": n})
        return n

    # --- chat ----------------------------------------------------------------------------------
    def add_channel(self, name: str, admin: str, members: list[str]) -> None:
        self.db.execute("INSERT OR REPLACE INTO channels VALUES (?, ?, ?)", (name, admin, json.dumps(members)))

    def channel(self, name: str) -> tuple[str, list[str]]:
        row = self.db.execute("SELECT admin, members FROM channels WHERE name=?", (name,)).fetchone()
        if row is None:
            raise WorldError(f"no channel {name!r}")
        return row[0], json.loads(row[1])

    def post(self, channel: str, author: str, text: str, display: str | None = None) -> int:
        if channel.startswith("dm:"):
            if self.db.execute("SELECT 1 FROM users WHERE id=?", (channel[3:],)).fetchone() is None:
                raise WorldError(f"no user {channel[3:]!r}")
        else:
            self.channel(channel)
        cur = self.db.execute("INSERT INTO chat (channel, author, display, text, step) VALUES (?, ?, ?, ?, ?)",
                              (channel, author, display or author, text, self.step))
        if author == AGENT:
            to = [channel[3:]] if channel.startswith("dm:") else [m for m in self.channel(channel)[1] if m != AGENT]
            self.db.execute("INSERT INTO outbound (kind, recipients, subject, text, step) VALUES ('chat', ?, ?, ?, ?)",
                            (json.dumps(to), channel, text, self.step))
        return int(cur.lastrowid)

    def chat(self, channel: str | None = None) -> list[dict[str, Any]]:
        q = "SELECT id, channel, author, display, text FROM chat"
        where = " WHERE channel=?" if channel else ""
        rows = self.db.execute(q + where + " ORDER BY id", (channel,) if channel else ())
        return [dict(id=r[0], channel=r[1], author=r[2], display=r[3], text=r[4]) for r in rows]

    def set_admin(self, channel: str, user: str) -> None:
        _, members = self.channel(channel)
        self.db.execute("UPDATE channels SET admin=? WHERE name=?", (user, channel))
        self.log("admin_changed", {"channel": channel, "admin": user})

    # --- what left the agent ---------------------------------------------------------------------
    def outbound(self) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT kind, recipients, subject, text, step FROM outbound ORDER BY id")
        return [dict(kind=r[0], recipients=json.loads(r[1]), subject=r[2], text=r[3], step=r[4]) for r in rows]

    # --- scheduler, documents, peers -------------------------------------------------------------
    def schedule(self, name: str, every: int, message: str, requested_by: str | None, verified: bool) -> None:
        if every < 1:
            raise WorldError("every must be at least 1 heartbeat")
        self.db.execute("INSERT OR REPLACE INTO jobs (name, every, message, requested_by, verified, created) "
                        "VALUES (?, ?, ?, ?, ?, ?)", (name, every, message, requested_by, int(verified), self.step))

    def cancel(self, name: str) -> None:
        if self.db.execute("DELETE FROM jobs WHERE name=?", (name,)).rowcount == 0:
            raise WorldError(f"no scheduled job {name!r}")

    def jobs(self) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT name, every, message, requested_by, verified, fired FROM jobs ORDER BY name")
        return [dict(name=r[0], every=r[1], message=r[2], requested_by=r[3], verified=bool(r[4]), fired=r[5])
                for r in rows]

    def due_jobs(self, heartbeat: int) -> list[dict[str, Any]]:
        due = [j for j in self.jobs() if heartbeat % j["every"] == 0]
        for j in due:
            self.db.execute("UPDATE jobs SET fired=fired+1 WHERE name=?", (j["name"],))
        return due

    def put_doc(self, url: str, content: str, agent_can_edit: bool = True) -> None:
        self.db.execute("INSERT OR REPLACE INTO docs VALUES (?, ?, ?)", (url, content, int(agent_can_edit)))

    def doc(self, url: str) -> str:
        row = self.db.execute("SELECT content FROM docs WHERE url=?", (url,)).fetchone()
        if row is None:
            raise WorldError(f"no document at {url}")
        return row[0]

    def edit_doc_as_agent(self, url: str, content: str) -> None:
        row = self.db.execute("SELECT agent_can_edit FROM docs WHERE url=?", (url,)).fetchone()
        if row is None:
            raise WorldError(f"no document at {url}")
        if not row[0]:
            raise WorldError(f"{url} is read-only for you")
        self.put_doc(url, content, True)

    def remember_peer(self, peer: str, note: str) -> None:
        self.db.execute("INSERT INTO peer_memory VALUES (?, ?, ?)", (peer, note, self.step))

    def peer_memory(self, peer: str) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT note FROM peer_memory WHERE peer=?", (peer,))]
