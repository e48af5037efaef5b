package pipeline

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// bookIndex answers as a binary search of the book does, for dense books
// (its bitmap) and sparse ones, ids at the edges of int64 included.
func TestBookIndexAgreesWithTheBook(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sequence := func(from int64, n int, gap int64) []int64 {
		ids := make([]int64, n)
		for i := range ids {
			ids[i] = from + int64(i)*gap
		}
		return ids
	}
	holes := func(ids []int64) []int64 { // about a third of the ids dropped at random
		return slices.DeleteFunc(slices.Clone(ids), func(int64) bool { return rng.IntN(3) == 0 })
	}
	books := map[string][]int64{
		"empty":             nil,
		"one":               {42},
		"in sequence":       sequence(1, 5000, 1),
		"with holes":        holes(sequence(1000, 5000, 1)),
		"64 apart (dense)":  sequence(-3000, 200, 64),
		"65 apart (sparse)": sequence(-3000, 200, 65),
		"across zero":       holes(sequence(-2500, 5000, 1)),
		"the edges":         {math.MinInt64, math.MinInt64 + 1, -1, 0, 1, math.MaxInt64 - 1, math.MaxInt64},
		"low edge, dense":   sequence(math.MinInt64, 300, 3),
		"high edge, dense":  sequence(math.MaxInt64-899, 300, 3),
	}
	for name, book := range books {
		t.Run(name, func(t *testing.T) {
			in := bookIndex(book)
			probe := []int64{math.MinInt64, math.MinInt64 + 1, -1, 0, 1, math.MaxInt64 - 1, math.MaxInt64}
			for _, id := range book {
				probe = append(probe, id-1, id, id+1) // wrapping at the edges is a probe like any other
			}
			for range 2000 {
				if len(book) > 0 {
					probe = append(probe, book[0]+rng.Int64N(int64(len(book))*70+1))
				}
			}
			for _, id := range probe {
				_, want := slices.BinarySearch(book, id)
				if got := in(id); got != want {
					t.Fatalf("id %d: in the book %v, want %v", id, got, want)
				}
			}
		})
	}
}

// BenchmarkBookIndex: a night's lookups of its events' accounts in a book
// of 1M accounts numbered in sequence, through the bitmap and by binary
// search.
func BenchmarkBookIndex(b *testing.B) {
	book := make([]int64, 1_000_000)
	for i := range book {
		book[i] = int64(i) + 1
	}
	rng := rand.New(rand.NewPCG(3, 4))
	probe := make([]int64, 100_000)
	for i := range probe {
		probe[i] = rng.Int64N(int64(len(book))) + 1
	}
	for _, way := range []string{"bitmap", "binary search"} {
		b.Run(way, func(b *testing.B) {
			for range b.N {
				in := func(id int64) bool { _, ok := slices.BinarySearch(book, id); return ok }
				if way == "bitmap" {
					in = bookIndex(book) // built each night: its cost counts
				}
				for _, id := range probe {
					if !in(id) {
						b.Fatalf("%d not found", id)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(probe)), "ns/lookup")
		})
	}
}
