package memindex

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkPage pages 50 records of 100,000 by last name, plainly and by a
// prefix that matches about 1,600 of them, for a rep who owns a twentieth
// of the records and for one who owns them all (PRF-3: the same cost).
func BenchmarkPage(b *testing.B) {
	for _, shape := range []struct {
		name   string
		owners int64
	}{{"spread", 20}, {"one-owner", 1}} {
		x := New(schema)
		rnd := rand.New(rand.NewPCG(5, 6))
		for id := int64(1); id <= 100_000; id++ {
			last := fmt.Sprintf("%s%04d", words[rnd.IntN(len(words))], rnd.IntN(10000))
			email := fmt.Sprintf("u%d@example.com", id)
			x.Put(Rec{ID: id, Owner: 1 + id%shape.owners, Attrs: []int64{0, 0}, Keys: []string{last, email, ""}, Terms: []Term{{0, last}, {1, email}}})
		}
		for _, q := range []struct {
			name   string
			prefix string
		}{{"list", ""}, {"prefix", "ivanov0"}} {
			words := func(p string) []Word {
				if p == "" {
					return nil
				}
				return word(p)
			}
			b.Run(shape.name+"/"+q.name, func(b *testing.B) {
				for b.Loop() {
					if _, _, err := x.Page(Scope{Owner: 1}, Query{Sort: "last_name", Words: words(q.prefix), Limit: 50}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
