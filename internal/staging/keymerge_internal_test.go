package staging

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// The merge of ReplaceKeys must yield every key of the runs, in the order a
// sort of all of them gives, whether or not the runs come sorted.
func TestKeyMergeYieldsTheRunsInSortedOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 50 {
		var runs [][]KeyEntry
		var all []KeyEntry
		for range rng.IntN(20) {
			run := make([]KeyEntry, rng.IntN(30))
			for i := range run {
				kind := KeyLogin
				if rng.IntN(3) == 0 {
					kind = KeyEmail
				}
				run[i] = KeyEntry{ExtractID: int64(rng.IntN(3)), Kind: kind, Key: "k" + strconv.Itoa(rng.IntN(40)), RecordID: int64(rng.IntN(1000))}
			}
			all = append(all, run...)
			if rng.IntN(2) == 0 {
				SortKeys(run)
			}
			runs = append(runs, run)
		}
		SortKeys(all)
		m := newKeyMerge(runs)
		var got []KeyEntry
		for m.len > 0 {
			got = append(got, m.next())
		}
		if !slices.Equal(got, all) {
			t.Fatalf("trial %d: merged\n%v\nwant\n%v", trial, got, all)
		}
	}
}
