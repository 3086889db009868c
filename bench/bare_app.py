"""The baseline for bench/records_read.py: a bare Flask JSON endpoint, served the same way."""

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/bare")
def bare():  # type: ignore[no-untyped-def]
    return jsonify(records=[{"id": i, "street": "Mill Lane", "damp": True} for i in range(100)])
