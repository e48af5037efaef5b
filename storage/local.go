package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// localFS is a directory of the local filesystem.
type localFS struct{ dir string }

// Temporary files of open writers: hidden, beside their target, and never
// listed.
const (
	tempPrefix = ".storage-"
	tempSuffix = ".tmp"
)

func isTemp(base string) bool {
	return strings.HasPrefix(base, tempPrefix) && strings.HasSuffix(base, tempSuffix)
}

func (l localFS) path(name string) string { return filepath.Join(l.dir, filepath.FromSlash(name)) }

func (l localFS) url(name string) string { return l.path(name) }

func (l localFS) open(_ context.Context, name string) (*File, error) {
	f, err := os.Open(l.path(name))
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if st.IsDir() {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: f.Name(), Err: ErrIsDir}
	}
	file := &File{url: f.Name(), size: st.Size(), closer: f}
	file.src = countingReader{f, file}
	return file, nil
}

func (l localFS) reader(_ context.Context, name string) (io.ReadCloser, error) {
	return os.Open(l.path(name))
}

func (l localFS) create(_ context.Context, name string, ifAbsent bool) (*Writer, error) {
	final := l.path(name)
	dir := filepath.Dir(final)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, tempPrefix+filepath.Base(final)+"-*"+tempSuffix)
	if err != nil {
		return nil, err
	}
	tmp := f.Name()
	abort := func() {
		f.Close()
		os.Remove(tmp)
	}
	commit := func() error {
		err := f.Chmod(0o644)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			if ifAbsent {
				// A link fails if final exists, where a rename would
				// replace it.
				err = os.Link(tmp, final)
				os.Remove(tmp)
				if errors.Is(err, fs.ErrExist) {
					return &fs.PathError{Op: "create", Path: final, Err: ErrExist}
				}
			} else {
				err = os.Rename(tmp, final)
			}
		}
		if err == nil {
			err = syncDir(dir)
		}
		if err != nil {
			os.Remove(tmp)
			return fmt.Errorf("close %s: %w", final, err)
		}
		return nil
	}
	return &Writer{w: f, commit: commit, abort: abort, url: final}, nil
}

// syncDir makes the entries of dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if errors.Is(err, syscall.EINVAL) { // filesystems that cannot sync a directory
		err = nil
	}
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

func (l localFS) stat(_ context.Context, name string) (Entry, error) {
	st, err := os.Stat(l.path(name))
	if err != nil {
		return Entry{}, err
	}
	return entryOf(name, st), nil
}

func entryOf(name string, st fs.FileInfo) Entry {
	e := Entry{Name: name, ModTime: st.ModTime(), IsDir: st.IsDir()}
	if !e.IsDir {
		e.Size = st.Size()
	}
	return e
}

func (l localFS) list(_ context.Context, dir string, recursive bool) ([]Entry, error) {
	root := l.path(dir)
	var out []Entry
	if !recursive {
		entries, err := os.ReadDir(root)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if isTemp(e.Name()) {
				continue
			}
			// Stat follows symbolic links, as a directory's reader does.
			st, err := os.Stat(filepath.Join(root, e.Name()))
			if errors.Is(err, fs.ErrNotExist) {
				continue // a link to nothing, or removed since
			}
			if err != nil {
				return nil, err
			}
			out = append(out, entryOf(joinName(dir, e.Name()), st))
		}
		return out, nil
	}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if d.IsDir() || isTemp(d.Name()) {
			return nil
		}
		st, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if st.IsDir() {
			return nil // a link to a directory is not walked into
		}
		rel, _ := filepath.Rel(root, p)
		out = append(out, entryOf(joinName(dir, filepath.ToSlash(rel)), st))
		return nil
	})
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
	return out, err
}

// joinName joins slash-separated names, "." being the root.
func joinName(dir, name string) string {
	if dir == "." {
		return name
	}
	return dir + "/" + name
}

func (l localFS) remove(_ context.Context, name string) error { return os.Remove(l.path(name)) }

func (l localFS) removeAll(_ context.Context, name string) error {
	return os.RemoveAll(l.path(name))
}

func (localFS) close() error { return nil }

// countingReader counts a local file's reads as a store's requests.
type countingReader struct {
	r    io.ReaderAt
	file *File
}

func (c countingReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.file.requests.Add(1)
	c.file.fetched.Add(int64(n))
	return n, err
}
