package loadgen

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func TestPercentiles(t *testing.T) {
	ms := time.Millisecond
	series := func(n int, unit time.Duration) []time.Duration {
		out := make([]time.Duration, n)
		for i := range out {
			out[i] = time.Duration(i+1) * unit
		}
		return out
	}
	tests := []struct {
		name    string
		samples []time.Duration
		// want maps a percentile to the nearest-rank sample.
		want map[float64]time.Duration
		max  time.Duration
	}{
		{"1..100 ms", series(100, ms), map[float64]time.Duration{50: 50 * ms, 90: 90 * ms, 99: 99 * ms, 100: 100 * ms}, 100 * ms},
		{"1..1000 µs", series(1000, time.Microsecond), map[float64]time.Duration{50: 500 * time.Microsecond, 90: 900 * time.Microsecond, 99: 990 * time.Microsecond}, time.Millisecond},
		{"one sample", []time.Duration{7 * ms}, map[float64]time.Duration{50: 7 * ms, 99: 7 * ms}, 7 * ms},
		{"all equal", []time.Duration{3 * ms, 3 * ms, 3 * ms, 3 * ms}, map[float64]time.Duration{50: 3 * ms, 90: 3 * ms}, 3 * ms},
		{"small values exact", []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, map[float64]time.Duration{50: 5, 90: 9, 99: 10}, 10},
		{"one slow outlier", append(series(99, time.Microsecond), 5*time.Second), map[float64]time.Duration{50: 50 * time.Microsecond, 99: 99 * time.Microsecond, 100: 5 * time.Second}, 5 * time.Second},
		{"shuffled order", []time.Duration{90 * ms, 10 * ms, 50 * ms, 30 * ms, 70 * ms}, map[float64]time.Duration{50: 50 * ms, 90: 90 * ms, 20: 10 * ms}, 90 * ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h histogram
			for _, s := range tt.samples {
				h.record(s)
			}
			for p, want := range tt.want {
				got := h.percentile(p)
				// Buckets are 1/128 wide: a percentile is within 0.8% of the sample.
				if math.Abs(float64(got-want)) > float64(want)/subBuckets {
					t.Errorf("p%v = %v, want %v (within 1/%d)", p, got, want, subBuckets)
				}
			}
			if time.Duration(h.max) != tt.max {
				t.Errorf("max = %v, want %v", time.Duration(h.max), tt.max)
			}
			if h.n != uint64(len(tt.samples)) {
				t.Errorf("count = %d, want %d", h.n, len(tt.samples))
			}
		})
	}
	var empty histogram
	if got := empty.percentile(50); got != 0 {
		t.Errorf("empty p50 = %v, want 0", got)
	}
}

// TestBuckets checks the bucket arithmetic: every value lands in a bucket
// whose range holds it and is at most 1/128 of it wide.
func TestBuckets(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 100_000 {
		v := r.Int64N(int64(time.Hour)) >> r.IntN(40)
		i := bucketOf(v)
		hi := bucketHigh(i)
		lo := int64(0)
		if i > 0 {
			lo = bucketHigh(i-1) + 1
		}
		if v < lo || v > hi {
			t.Fatalf("%d in bucket %d = [%d, %d]", v, i, lo, hi)
		}
		if width := hi - lo + 1; v >= subBuckets && float64(width) > float64(v)/subBuckets+1 {
			t.Fatalf("bucket of %d is %d wide", v, width)
		}
	}
}

func TestHistogramMerge(t *testing.T) {
	var a, b, all histogram
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 5000 {
		d := time.Duration(r.Int64N(int64(50 * time.Millisecond)))
		all.record(d)
		if i%3 == 0 {
			a.record(d)
		} else {
			b.record(d)
		}
	}
	a.merge(&b)
	if a.n != all.n || a.sum != all.sum || a.min != all.min || a.max != all.max {
		t.Fatalf("merged n/sum/min/max %d/%d/%d/%d, want %d/%d/%d/%d", a.n, a.sum, a.min, a.max, all.n, all.sum, all.min, all.max)
	}
	for _, p := range []float64{50, 90, 99, 99.9} {
		if a.percentile(p) != all.percentile(p) {
			t.Errorf("p%v merged %v, recorded together %v", p, a.percentile(p), all.percentile(p))
		}
	}
}
