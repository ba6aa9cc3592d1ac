package data

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Shard r of N with batch B returns rows [r·B, (r+1)·B) of each batch of
// one loader with batch N·B: same items, same augmented pixels.
func TestLoaderShards(t *testing.T) {
	ds := newMem(41) // 41 items: 3 global batches of 12, 5 left out
	for _, tc := range []struct {
		name      string
		shards, b int
	}{
		{"2 shards of 6", 2, 6},
		{"3 shards of 4", 3, 4},
		{"4 shards of 1", 4, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			global := newLoader(t, Config{Dataset: ds, Pipeline: augmented(t), BatchSize: tc.shards * tc.b, Shuffle: true, Seed: 5, DropLast: true})
			want := runEpoch(t, global, 1, 0)
			per := len(want.images[0]) / (tc.shards * tc.b)
			for r := range tc.shards {
				l := newLoader(t, Config{Dataset: ds, Pipeline: augmented(t), BatchSize: tc.b, Shuffle: true, Seed: 5, DropLast: true, Shards: tc.shards, Shard: r, Workers: 2})
				require.Equal(t, global.Batches(), l.Batches())
				assert.Equal(t, tc.b, l.Shape()[0], "a shard's batch is the per-replica size")
				got := runEpoch(t, l, 1, 0)
				require.Len(t, got.images, len(want.images))
				for k := range want.images {
					assert.Equal(t, want.indices[k][r*tc.b:(r+1)*tc.b], got.indices[k], "shard %d batch %d items", r, k)
					assert.Equal(t, want.labels[k][r*tc.b:(r+1)*tc.b], got.labels[k])
					assert.Equal(t, want.images[k][r*tc.b*per:(r+1)*tc.b*per], got.images[k], "shard %d batch %d pixels", r, k)
				}
				rest := runEpoch(t, l, 1, 1)
				assert.Equal(t, got.indices[1:], rest.indices, "resuming mid-epoch")
			}
		})
	}
	t.Run("bad shard settings are errors", func(t *testing.T) {
		for _, c := range []struct {
			cfg    Config
			errSub string
		}{
			{Config{Dataset: ds, Pipeline: plain(), BatchSize: 2, DropLast: true, Shards: 2, Shard: 2}, "shard 2 of 2"},
			{Config{Dataset: ds, Pipeline: plain(), BatchSize: 2, DropLast: true, Shards: 2, Shard: -1}, "shard -1 of 2"},
			{Config{Dataset: ds, Pipeline: plain(), BatchSize: 2, DropLast: true, Shard: 1}, "shard 1 of 0"},
			{Config{Dataset: ds, Pipeline: plain(), BatchSize: 2, Shards: 2}, "need DropLast"},
			{Config{Dataset: ds, Pipeline: plain(), BatchSize: 21, DropLast: true, Shards: 2}, "leaves no batch"},
		} {
			_, err := NewLoader(c.cfg)
			assert.ErrorContains(t, err, c.errSub)
		}
	})
}
