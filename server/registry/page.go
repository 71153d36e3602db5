package registry

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// PageArgs are Relay connection arguments.
type PageArgs struct {
	First, Last   *int
	After, Before *string
}

// Page is one page of a keyset-paginated listing ordered by id.
type Page[T any] struct {
	Items           []T
	Cursors         []string
	HasNextPage     bool
	HasPreviousPage bool
}

const (
	defaultPageSize = 20
	maxPageSize     = 100
)

// EncodeCursor makes an opaque cursor for an id.
func EncodeCursor(id int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("id:" + strconv.Itoa(id)))
}

func decodeCursor(c string) (int, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !strings.HasPrefix(string(b), "id:") {
		return 0, Invalid("invalid cursor %q", c)
	}
	id, err := strconv.Atoi(string(b[3:]))
	if err != nil {
		return 0, Invalid("invalid cursor %q", c)
	}
	return id, nil
}

// KeysetQuery fetches up to limit rows with after < id < before (0 = no
// bound), ascending, or descending when desc is set.
type KeysetQuery[T any] func(after, before int, desc bool, limit int) ([]T, error)

// Paginate runs a keyset query for Relay arguments.
func Paginate[T any](args PageArgs, idOf func(T) int, fetch KeysetQuery[T]) (*Page[T], error) {
	if args.First != nil && args.Last != nil {
		return nil, Invalid("pass either first or last, not both")
	}
	var after, before int
	var err error
	if args.After != nil {
		if after, err = decodeCursor(*args.After); err != nil {
			return nil, err
		}
	}
	if args.Before != nil {
		if before, err = decodeCursor(*args.Before); err != nil {
			return nil, err
		}
	}
	n, desc := defaultPageSize, false
	switch {
	case args.First != nil:
		n = *args.First
	case args.Last != nil:
		n, desc = *args.Last, true
	}
	if n < 0 || n > maxPageSize {
		return nil, Invalid("first and last must be between 0 and %d", maxPageSize)
	}
	rows, err := fetch(after, before, desc, n+1)
	if err != nil {
		return nil, err
	}
	more := len(rows) > n
	if more {
		rows = rows[:n]
	}
	page := &Page[T]{}
	if desc {
		for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
			rows[i], rows[j] = rows[j], rows[i]
		}
		page.HasPreviousPage, page.HasNextPage = more, before > 0
	} else {
		page.HasNextPage, page.HasPreviousPage = more, after > 0
	}
	page.Items = rows
	for _, r := range rows {
		page.Cursors = append(page.Cursors, EncodeCursor(idOf(r)))
	}
	return page, nil
}
