"""The Python service the Rust one replaces: a small Flask host app that mounts
flask-auth-service-mongo 0.1.8 the way its documentation shows, for the
side-by-side end-to-end tests (tests/tests/e2e/side_by_side.rs).

    python flask_service.py --port P
    python flask_service.py --load-models   (see load_models)

Routes, under /admin like ours:
    POST /admin/login     api_rest.login(role=ALLOWED_ROLES)
    POST /admin/logout    auth.required(role=ALLOWED_ROLES) + api_rest.logout()
    POST /admin/graphql   auth.required(role=ALLOWED_ROLES) + a graphene schema of
                          the package's types and mutations (create_user,
                          update_password, refresh_token, ...) behind its
                          MutationMiddleware, plus a `me` query of the host's own

Settings come from the environment:
    MONGODB_URI, MONGODB_DATABASE   where the package's models live (the host
                                    app connects; the package never does)
    SECRET_KEY                      read by the package's own config.py
    ALLOWED_ROLES                   comma-separated roles, `*` = any (our name;
                                    default `admin`, as ours)
    BENCH_CHECK_TIMES               a file each password check's time is added
                                    to (scripts/bench; see time_password_checks)
The package's other settings (TOKEN_EXPIRE_MINUTES, WHITE_LIST_TOKEN, ...) are
read by its config.py straight from os.environ *as strings*, so the tests leave
them unset: the package's defaults (60 minutes, whitelist on) are what the Rust
service defaults to as well.
"""

import argparse
import json
import os
import sys

import graphene
import mongoengine
from flask import Blueprint, Flask, jsonify, request
from flask_auth_service_mongo import MutationMiddleware, Roles, api_rest, auth
from flask_auth_service_mongo import schema as auth_schema


def allowed_roles():
    """ALLOWED_ROLES as the package's `role` argument: a list, or None (any)."""
    value = os.environ.get("ALLOWED_ROLES", "admin").strip()
    if value == "*":
        return None
    return [role.strip() for role in value.split(",") if role.strip()]


ROLES = allowed_roles()


class Query(graphene.ObjectType):
    # The package has no query of its own; a host app writes one. `me` is the
    # signed-in user (set by auth.required), as the Rust service's `me`.
    me = graphene.Field(auth_schema.User)

    def resolve_me(self, info):
        return auth.current_user()


class Mutation(graphene.ObjectType):
    # The package's mutations, named as its clients call them (snake_case:
    # graphene is told not to camelCase below).
    create_user = auth_schema.CreateUser.Field()
    update_user = auth_schema.UpdateUser.Field()
    delete_user = auth_schema.DeleteUser.Field()
    update_password = auth_schema.UpdatePassword.Field()
    reset_password = auth_schema.ResetPassword.Field()
    refresh_token = auth_schema.RefreshToken.Field()


SCHEMA = graphene.Schema(query=Query, mutation=Mutation, auto_camelcase=False)

# The package's access rules, as the Rust service's defaults: administration for
# admins, one's own password and a refresh for anyone signed in.
MIDDLEWARE = [
    MutationMiddleware(
        [
            {"mutation": "create_user", "roles": ["admin"]},
            {"mutation": "update_user", "roles": ["admin"]},
            {"mutation": "delete_user", "roles": ["admin"]},
            {"mutation": "reset_password", "roles": ["admin"]},
            {"mutation": "update_password", "roles": [Roles.IS_AUTHENTICATED_FULLY]},
            {"mutation": "refresh_token", "roles": [Roles.IS_AUTHENTICATED_FULLY]},
        ]
    )
]

admin = Blueprint("admin", __name__)


# auth.required's wrapper doesn't keep the view's name, so every route names
# its endpoint.
@admin.route("/login", methods=["POST"], endpoint="login")
def login():
    return api_rest.login(role=ROLES)


@admin.route("/logout", methods=["POST"], endpoint="logout")
@auth.required(role=ROLES)
def logout():
    return api_rest.logout()


@admin.route("/graphql", methods=["POST"], endpoint="graphql")
@auth.required(role=ROLES)
def graphql():
    # flask-graphql's GraphQLView isn't among the package's dependencies; this
    # is what it does for a JSON POST.
    body = request.get_json(force=True, silent=True) or {}
    result = SCHEMA.execute(
        body.get("query", ""),
        variables=body.get("variables") or {},
        operation_name=body.get("operationName"),
        middleware=MIDDLEWARE,
    )
    answer = {"data": result.data}
    if result.errors:
        answer["errors"] = [{"message": str(error)} for error in result.errors]
    return jsonify(answer)


def connect():
    mongoengine.connect(
        db=os.environ["MONGODB_DATABASE"], host=os.environ["MONGODB_URI"]
    )


def time_password_checks(path):
    """For scripts/bench: appends how long each of the package's password
    checks took (microseconds, a line each) to `path`, so a login's time in
    the hash can be told from the rest, in the process that served it. The
    package calls `bcrypt.checkpw` through the module, so wrapping the
    module's function times exactly its checks."""
    import time

    import bcrypt

    checkpw = bcrypt.checkpw

    def timed(password, hashed):
        started = time.perf_counter()
        try:
            return checkpw(password, hashed)
        finally:
            with open(path, "a") as out:
                out.write(f"{round((time.perf_counter() - started) * 1e6)}\n")

    bcrypt.checkpw = timed


def create_app():
    if os.environ.get("BENCH_CHECK_TIMES"):
        time_password_checks(os.environ["BENCH_CHECK_TIMES"])
    connect()
    app = Flask(__name__)
    app.register_blueprint(admin, url_prefix="/admin")
    return app


def load_models():
    """Loads every document of the package's three collections through its
    models, reading every field (references followed) and validating it as
    a save would. The models load strictly: a field they don't declare raises
    FieldDoesNotExist, a dangling reference DoesNotExist. Prints the counts as
    JSON; on any failure prints each one and exits 1."""
    from flask_auth_service_mongo.security.models import Role, User, WhitelistToken

    connect()
    counts, failures = {}, []
    for model in (Role, User, WhitelistToken):
        name = model._get_collection_name()
        total = model._get_collection().count_documents({})
        loaded = 0
        documents = iter(model.objects.all())
        for _ in range(total):
            try:
                document = next(documents)
                for field in document._fields:
                    value = getattr(document, field)
                    if isinstance(value, mongoengine.Document):
                        for inner in value._fields:
                            getattr(value, inner)
                document.validate()
                loaded += 1
            except StopIteration:
                break
            except Exception as error:  # report every document that fails
                failures.append("{}: {}: {}".format(name, type(error).__name__, error))
        counts[name] = loaded
    if failures:
        print("\n".join(failures))
        sys.exit(1)
    print(json.dumps(counts))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int)
    parser.add_argument("--load-models", action="store_true", help=load_models.__doc__)
    args = parser.parse_args()
    if args.load_models:
        load_models()
    elif args.port:
        # werkzeug's development server, threaded, on loopback only.
        create_app().run(host="127.0.0.1", port=args.port, threaded=True)
    else:
        parser.error("--port or --load-models")
