"""WSGI app of `make bench-load`: the product's app plus one constant route (the ceiling of the
same stack: gunicorn, Flask, the before/after-request hooks, the session)."""

from ecqs import create_app

app = create_app()


@app.route("/bench/trivial")
def trivial():
    return "ok"
