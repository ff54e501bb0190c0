"""The load run's client (`scripts/load`, driven by tests/benches/load/): each
locust user runs whole sessions, one after another, without pause:

    login, `me`, `me`, refresh, `me` (with the new access token),
    refresh (with the new refresh token), `me`, logout

against the same routes at both services (POST /admin/login, /admin/logout,
/admin/graphql; `refresh_token` is the GraphQL mutation, sent with the
current access token, which the package's guard requires). A session is one
locust task, so `--stop-timeout` lets every user finish the session it is in
when the time is up: the database audit afterwards knows which sessions ended.

Settings from the environment:
    LOAD_ACCOUNTS   how many users are seeded (load0 .. loadN-1); locust user
                    i logs in as load{i mod N}
    LOAD_PASSWORD   their password
    LOAD_OUT        where to write, when locust quits, every request's time
                    and outcome per route, every session's token ids (the
                    `uuid` claims, read without verification) and locust's own
                    CPU seconds, as JSON

A step that fails (a status other than 200, or GraphQL `errors`) is a locust
failure for its route; the session then skips to its logout. A refresh that
answered 200 whose new access token is refused (401, or GraphQL
`unauthorized`) right after, or whose new refresh token the next refresh
refuses, is counted as a lost rotation.
"""

import base64
import itertools
import json
import os
import resource
import time

from locust import FastHttpUser, constant, events, task

ACCOUNTS = int(os.environ.get("LOAD_ACCOUNTS", "1"))
PASSWORD = os.environ.get("LOAD_PASSWORD", "load-password")
OUT = os.environ.get("LOAD_OUT")

ME = "{ me { username } }"
REFRESH = (
    "mutation($r: String!) { refresh_token(input: {refresh_token: $r}) "
    "{ access_token refresh_token } }"
)

NUMBERS = itertools.count()
CLOCK = {"start": None, "stop": None}
ROUTES = {}  # name -> {"times": [ms...], "errors": {status: count}}
SESSIONS = []


def token_uuid(token):
    """The `uuid` claim of a JWT, read without verifying it."""
    payload = token.split(".")[1]
    payload += "=" * (-len(payload) % 4)
    return json.loads(base64.urlsafe_b64decode(payload))["uuid"]


@events.test_start.add_listener
def on_test_start(environment, **_kwargs):
    CLOCK["start"] = time.time()


@events.test_stop.add_listener
def on_test_stop(environment, **_kwargs):
    CLOCK["stop"] = time.time()


@events.request.add_listener
def on_request(name, response_time, exception, response=None, **_kwargs):
    route = ROUTES.setdefault(name, {"times": [], "errors": {}})
    route["times"].append(response_time)
    if exception is not None:
        status = str(getattr(response, "status_code", 0) or 0)
        route["errors"][status] = route["errors"].get(status, 0) + 1


@events.quitting.add_listener
def on_quitting(environment, **_kwargs):
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime
    if OUT:
        with open(OUT, "w") as out:
            json.dump(
                {"clock": CLOCK, "cpu": cpu, "routes": ROUTES, "sessions": SESSIONS}, out
            )


class Session:
    def __init__(self, username):
        self.record = {
            "username": username,
            "access": [],
            "refresh": [],
            "refreshed": 0,
            "rotation_lost": 0,
            "ended": False,
            "ended_at": None,
            "failed": None,
        }
        self.access = None
        self.refresh = None

    def issued(self, access, refresh):
        self.access, self.refresh = access, refresh
        self.record["access"].append(token_uuid(access))
        self.record["refresh"].append(token_uuid(refresh))


class SessionUser(FastHttpUser):
    wait_time = constant(0)

    def on_start(self):
        self.username = "load{}".format(next(NUMBERS) % ACCOUNTS)
        self.refused = False

    def post(self, name, path, body, token=None):
        """POST `body`; returns the answer's JSON when it is a success, else
        None (the failure recorded under `name`)."""
        headers = {"Authorization": "Bearer " + token} if token else {}
        with self.client.post(
            path, json=body, headers=headers, name=name, catch_response=True
        ) as response:
            try:
                answer = response.json()
            except Exception:
                answer = None
            errors = answer.get("errors") if isinstance(answer, dict) else None
            self.refused = response.status_code == 401 or "unauthorized" in json.dumps(
                errors or []
            )
            if response.status_code != 200:
                response.failure("{} {}".format(response.status_code, response.text[:200]))
                return None
            if not isinstance(answer, dict) or answer.get("errors"):
                response.failure("200 with {}".format(response.text[:200]))
                return None
            return answer

    def me(self, session):
        return self.post(
            "me", "/admin/graphql", {"query": ME, "variables": {}}, session.access
        )

    def refresh(self, session):
        answer = self.post(
            "refresh",
            "/admin/graphql",
            {"query": REFRESH, "variables": {"r": session.refresh}},
            session.access,
        )
        pair = ((answer or {}).get("data") or {}).get("refresh_token") or {}
        if not pair.get("access_token") or not pair.get("refresh_token"):
            return False
        session.issued(pair["access_token"], pair["refresh_token"])
        session.record["refreshed"] += 1
        return True

    @task
    def session(self):
        session = Session(self.username)
        login = self.post(
            "login",
            "/admin/login",
            {"username": self.username, "password": PASSWORD},
        )
        data = (login or {}).get("data") or {}
        if not data.get("access_token"):
            return
        session.issued(data["access_token"], data["refresh_token"])
        SESSIONS.append(session.record)
        steps = [
            lambda: self.me(session),
            lambda: self.me(session),
            lambda: self.refresh(session),
            lambda: self.me(session) or self.lost(session),
            lambda: self.refresh(session) or self.lost(session),
            lambda: self.me(session),
        ]
        for number, step in enumerate(steps):
            if not step():
                session.record["failed"] = number
                break
        if self.post("logout", "/admin/logout", {}, session.access):
            session.record["ended"] = True
            session.record["ended_at"] = time.time()

    def lost(self, session):
        """The step after a refresh that answered 200 failed: a lost rotation
        if its token was refused (not, say, a 503)."""
        if self.refused:
            session.record["rotation_lost"] += 1
        return False
