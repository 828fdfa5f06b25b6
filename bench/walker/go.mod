module odatagw-bench-walker

go 1.26
