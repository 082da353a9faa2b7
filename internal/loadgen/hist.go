package loadgen

import (
	"math"
	"math/bits"
	"time"
)

// histogram records latencies in log-linear buckets (the HdrHistogram
// layout): every power of two is split into subBuckets equal parts, so a
// percentile is within 1/subBuckets (0.8%) of the true sample while memory
// stays fixed however long the run (a few KiB, against 8 bytes a sample
// for an hour at thousands of requests a second).
type histogram struct {
	counts        []uint64
	n             uint64
	sum, min, max int64 // nanoseconds, exact
}

const (
	subBits    = 7
	subBuckets = 1 << subBits
)

// bucketOf is the index of the bucket holding v nanoseconds: values below
// subBuckets have a bucket each; above, the top subBits+1 bits of v pick
// the bucket.
func bucketOf(v int64) int {
	if v < subBuckets {
		return int(max(v, 0))
	}
	u := uint64(v)
	shift := bits.Len64(u) - subBits - 1
	return (shift+1)*subBuckets + int(u>>shift) - subBuckets
}

// bucketHigh is the largest value bucket i holds.
func bucketHigh(i int) int64 {
	if i < subBuckets {
		return int64(i)
	}
	shift := i/subBuckets - 1
	m := int64(i%subBuckets + subBuckets)
	return (m+1)<<shift - 1
}

func (h *histogram) record(d time.Duration) {
	v := max(int64(d), 0)
	i := bucketOf(v)
	if i >= len(h.counts) {
		grown := make([]uint64, i+1+subBuckets)
		copy(grown, h.counts)
		h.counts = grown
	}
	h.counts[i]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	h.max = max(h.max, v)
	h.n++
	h.sum += v
}

func (h *histogram) merge(o *histogram) {
	if o.n == 0 {
		return
	}
	if len(o.counts) > len(h.counts) {
		grown := make([]uint64, len(o.counts))
		copy(grown, h.counts)
		h.counts = grown
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
	h.sum += o.sum
}

// percentile is the nearest-rank percentile (p in (0, 100]): the smallest
// recorded value such that at least p% of the samples are at most it,
// reported as the top of its bucket and never beyond the exact min and max.
func (h *histogram) percentile(p float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(p / 100 * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(min(max(bucketHigh(i), h.min), h.max))
		}
	}
	return time.Duration(h.max)
}

func (h *histogram) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / int64(h.n))
}
