package sink

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/parquet-go/parquet-go"
)

type nullsRow struct {
	S string `parquet:"s,optional,dict"`
	N int64  `parquet:"n,optional"`
	B []byte `parquet:"b,optional"`
}

type nullsProbe struct {
	S *string `parquet:"s,optional"`
	N *int64  `parquet:"n,optional"`
	B []byte  `parquet:"b,optional"`
}

// writeRows keeps every NULL a NULL for any pattern of nulls and values,
// where a plain Write of parquet-go v0.32 does not (see nulls.go).
func TestWriteRowsKeepsNulls(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	plainCorrupted := 0
	for iter := range 1000 {
		rows := make([]nullsRow, 1+r.IntN(200))
		density := r.Float64()
		for i := range rows {
			if r.Float64() < density {
				rows[i].S = "v"
			}
			if r.Float64() < density {
				rows[i].N = 7
			}
			if r.Float64() < density {
				rows[i].B = []byte{}
			}
		}
		for _, safe := range []bool{true, false} {
			var buf bytes.Buffer
			pw := parquet.NewGenericWriter[nullsRow](&buf)
			if safe {
				if err := writeRows(pw, rows); err != nil {
					t.Fatal(err)
				}
			} else {
				pw.Write(rows)
			}
			pw.Close()
			got, err := parquet.Read[nullsProbe](bytes.NewReader(buf.Bytes()), int64(buf.Len()))
			if err != nil {
				t.Fatal(err)
			}
			ok := len(got) == len(rows)
			for i := 0; ok && i < len(rows); i++ {
				ok = (got[i].S == nil) == (rows[i].S == "") && (got[i].N == nil) == (rows[i].N == 0) && (got[i].B == nil) == (rows[i].B == nil)
			}
			switch {
			case safe && !ok:
				t.Fatalf("pattern %d (%d rows): a NULL was written as a value", iter, len(rows))
			case !safe && !ok:
				plainCorrupted++
			}
		}
	}
	t.Logf("a plain parquet-go Write corrupted %d of 1000 patterns", plainCorrupted)
}
