// Command pagecache models a backfill's spills as the page cache sees
// them: a book of 223 MiB written in 785 KiB writes every window, read back
// by the next window and then no longer needed. "new" writes each book to
// a new file and removes the one before once read; "reuse" writes it over
// the file of two windows before, in turn with a second file, without
// truncating it first. It prints each write's time.
//
//	go run ./bench/pagecache DIR new|reuse
package main

import (
	"fmt"
	"io"
	"os"
	"time"
)

const size = 223 << 20

var buf = func() []byte {
	b := make([]byte, 785<<10)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}()

func write(path string, flags int) time.Duration {
	t := time.Now()
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		panic(err)
	}
	for n := 0; n < size; n += len(buf) {
		if _, err := f.Write(buf); err != nil {
			panic(err)
		}
	}
	f.Close()
	return time.Since(t)
}

func read(path string) {
	f, err := os.Open(path)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	if _, err := io.Copy(io.Discard, f); err != nil {
		panic(err)
	}
}

func main() {
	if len(os.Args) != 3 || (os.Args[2] != "new" && os.Args[2] != "reuse") {
		fmt.Fprintln(os.Stderr, "usage: pagecache DIR new|reuse")
		os.Exit(2)
	}
	dir, mode := os.Args[1], os.Args[2]
	var total time.Duration
	for w := 0; w < 8; w++ {
		var d time.Duration
		if mode == "new" {
			p := fmt.Sprintf("%s/spill.w%d", dir, w)
			d = write(p, os.O_RDWR|os.O_CREATE|os.O_TRUNC)
			if w > 0 {
				prev := fmt.Sprintf("%s/spill.w%d", dir, w-1)
				read(prev)
				os.Remove(prev)
			}
		} else {
			d = write(fmt.Sprintf("%s/spill.%d", dir, w%2), os.O_RDWR|os.O_CREATE)
			if w > 0 {
				read(fmt.Sprintf("%s/spill.%d", dir, (w+1)%2))
			}
		}
		if w > 1 {
			total += d
		}
		fmt.Printf("%s window %d: write %v\n", mode, w, d.Round(time.Millisecond))
		time.Sleep(3 * time.Second) // the window's other work
	}
	fmt.Printf("%s: windows 2-7 wrote in %v\n", mode, total.Round(time.Millisecond))
	for _, p := range []string{"spill.0", "spill.1", "spill.w7"} { // what it left
		os.Remove(dir + "/" + p)
	}
}
