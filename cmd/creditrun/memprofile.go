package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"time"
)

// heapPeakProfiler writes a heap profile (go tool pprof) to path whenever
// the heap's objects, sampled every 200 ms, have grown 5% beyond what they
// were at the last profile, and when stopped if it wrote none (a command
// shorter than a sample): when the command ends, the file holds the
// profile of about its peak, for the question a peak RSS raises (what was
// alive then). stop ends the sampling and returns the largest heap seen.
func heapPeakProfiler(path string) (stop func() (peak uint64, err error), err error) {
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		return nil, err
	}
	var (
		peak, written uint64
		werr          error
		sample        = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	)
	write := func(heap uint64) {
		runtime.GC() // the profile's figures are those of the last collection
		f, err := os.Create(path)
		if err == nil {
			err = pprof.Lookup("heap").WriteTo(f, 0)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil && werr == nil {
			werr = err
		}
		written = heap
	}
	// check samples the heap and writes the profile when it grew 5% past
	// the last profile's.
	check := func() {
		metrics.Read(sample)
		v := sample[0].Value.Uint64()
		peak = max(peak, v)
		if written == 0 || v > written+written/20 {
			write(v)
		}
	}
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				check()
			}
		}
	}()
	return func() (uint64, error) {
		close(done)
		<-finished
		if written == 0 {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			write(peak)
		}
		if werr != nil {
			return peak, fmt.Errorf("--memprofile %s: %w", path, werr)
		}
		return peak, nil
	}, nil
}
