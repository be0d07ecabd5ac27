#!/usr/bin/env python3
"""Writes test/fixtures/tensorboard/golden.tfevents with TensorBoard's own protobuf classes and record writer.

Usage: python3 scripts/make-tensorboard-golden.py OUT_FILE   (needs the `tensorboard` Python package).
The events are fixed (no clock), so re-running reproduces the file byte for byte. tsml's TensorBoard writer must
produce the same bytes for the same events (test/io/tensorboard.test.ts).
"""
import sys

from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer.record_writer import RecordWriter

EVENTS = [
    (1700000000.25, 0, None),
    (1700000001.5, 1, [("train/loss", 0.6931471805599453), ("train/learning_rate", 1e-4)]),
    (1700000002.75, 2, [("train/loss", 0.5), ("train/grad_norm", 3.25), ("eval/f1", 0.875)]),
    (1700000003.0, 3000000000, [("train/noise_scale", 1234.5678), ("train/smoothed_loss", -0.0)]),
    (1700000004.125, 7, [("train/loss", 0.0), ("eval/accuracy", 1.0)]),
]


def main(out):
    with open(out, "wb") as f:
        writer = RecordWriter(f)
        for wall_time, step, scalars in EVENTS:
            if scalars is None:
                event = event_pb2.Event(wall_time=wall_time, step=step, file_version="brain.Event:2")
            else:
                values = [summary_pb2.Summary.Value(tag=tag, simple_value=value) for tag, value in scalars]
                event = event_pb2.Event(wall_time=wall_time, step=step, summary=summary_pb2.Summary(value=values))
            writer.write(event.SerializeToString())
        writer.flush()


if __name__ == "__main__":
    main(sys.argv[1])
