package jsonscan

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"testing"
)

// specialMask must find the first special byte of every word as the byte
// table does: each byte value in each position among plain bytes, and
// random words.
func TestSpecialMaskMatchesTheTable(t *testing.T) {
	check := func(w uint64) {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], w)
		want := 8
		for i, c := range b {
			if stringSpecial[c] {
				want = i
				break
			}
		}
		got := 8
		if m := specialMask(w); m != 0 {
			got = bits.TrailingZeros64(m) / 8
		}
		if got != want {
			t.Fatalf("first special byte of %q: specialMask says %d, the table %d", b, got, want)
		}
	}
	plain := binary.LittleEndian.Uint64([]byte("eyJhbGci"))
	for pos := range 8 {
		for c := range 256 {
			shift := uint(pos * 8)
			check(plain&^(0xff<<shift) | uint64(c)<<shift)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 1_000_000 {
		check(r.Uint64())
		// Mostly printable words, where borrows between bytes matter.
		var b [8]byte
		for i := range b {
			b[i] = byte(0x1c + r.IntN(0x66))
		}
		check(binary.LittleEndian.Uint64(b[:]))
	}
}
