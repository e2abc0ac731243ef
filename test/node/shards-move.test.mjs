// The slot move CLI's arithmetic: the SHARDS value to deploy once a range has moved.
import assert from "node:assert/strict";
import { test } from "node:test";
import { nextShards } from "../../scripts/shards-move.mjs";

test("a deployment from before shards gives half its slots to a second shard", () => {
  assert.equal(nextShards([{ binding: "DB", slots: "0-1023" }], { slots: "512-1023", to: "SHARD_1" }), "DB:0-511,SHARD_1:512-1023");
});

test("a third shard takes the middle of a range, and the ranges around it stay", () => {
  const ranges = [
    { binding: "DB", slots: "0-511" },
    { binding: "SHARD_1", slots: "512-1023" },
  ];
  assert.equal(nextShards(ranges, { slots: "256-383", to: "SHARD_2" }), "DB:0-255,SHARD_2:256-383,DB:384-511,SHARD_1:512-1023");
});
