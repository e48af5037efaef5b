package pqfile

// WriterOptions are the options every file is written with.
var WriterOptions = writerOptions
