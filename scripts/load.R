# Load the dprk-timeline package into R data frames, typed from its Table Schemas.
#
#   source("scripts/load.R")
#   tables <- dprk_read_package(".")          # a checkout or an unpacked release
#   launches <- tables$launches
#
# Uses jsonlite and, when installed, readr; falls back to base R for reading the CSV files.
# Types: string -> character (factor when the field has allowed values), integer -> integer,
# number -> double, boolean -> logical, date -> Date, datetime -> POSIXct in UTC.
# Primary keys must be unique and foreign keys must resolve, or loading stops with an error.

dprk_read_csv <- function(path) {
  if (requireNamespace("readr", quietly = TRUE)) {
    frame <- readr::read_csv(path, col_types = readr::cols(.default = readr::col_character()),
                             na = "", progress = FALSE, show_col_types = FALSE)
    return(as.data.frame(frame, stringsAsFactors = FALSE))
  }
  utils::read.csv(path, colClasses = "character", na.strings = "", encoding = "UTF-8",
                  check.names = FALSE, stringsAsFactors = FALSE)
}

dprk_type_column <- function(values, field) {
  enum <- field$constraints$enum
  switch(field$type,
    integer = as.integer(values),
    number = as.double(values),
    boolean = ifelse(is.na(values), NA, values == "true"),
    date = as.Date(values, format = "%Y-%m-%d"),
    datetime = as.POSIXct(values, format = "%Y-%m-%dT%H:%M:%SZ", tz = "UTC"),
    if (!is.null(enum)) factor(values, levels = unlist(enum)) else as.character(values)
  )
}

dprk_read_resource <- function(resource, root) {
  raw <- dprk_read_csv(file.path(root, resource$path))
  fields <- resource$schema$fields
  names_expected <- vapply(fields, function(f) f$name, character(1))
  if (!identical(names(raw), names_expected)) {
    stop(sprintf("%s: columns %s differ from its schema", resource$path, paste(names(raw), collapse = ", ")))
  }
  columns <- lapply(fields, function(field) dprk_type_column(raw[[field$name]], field))
  names(columns) <- names_expected
  frame <- as.data.frame(columns, stringsAsFactors = FALSE, check.names = FALSE)
  key <- unlist(resource$schema$primaryKey)
  if (nrow(frame) > 0 && anyDuplicated(frame[, key, drop = FALSE])) {
    stop(sprintf("%s: duplicate primary key (%s)", resource$path, paste(key, collapse = ", ")))
  }
  frame
}

dprk_check_foreign_keys <- function(tables, package) {
  for (resource in package$resources) {
    for (fk in resource$schema$foreignKeys) {
      from <- tables[[resource$name]][, unlist(fk$fields), drop = FALSE]
      to <- tables[[fk$reference$resource]][, unlist(fk$reference$fields), drop = FALSE]
      present <- stats::complete.cases(from)
      keys_from <- do.call(paste, c(lapply(from[present, , drop = FALSE], as.character), sep = "\r"))
      keys_to <- do.call(paste, c(lapply(to, as.character), sep = "\r"))
      missing <- setdiff(keys_from, keys_to)
      if (length(missing) > 0) {
        stop(sprintf("%s.%s: %d value(s) not found in %s.%s, e.g. %s", resource$name,
                     paste(unlist(fk$fields), collapse = ","), length(missing), fk$reference$resource,
                     paste(unlist(fk$reference$fields), collapse = ","), gsub("\r", "/", missing[1])))
      }
    }
  }
  invisible(TRUE)
}

dprk_read_package <- function(root = ".") {
  package <- jsonlite::fromJSON(file.path(root, "datapackage.json"), simplifyVector = FALSE)
  tables <- lapply(package$resources, dprk_read_resource, root = root)
  names(tables) <- vapply(package$resources, function(r) r$name, character(1))
  dprk_check_foreign_keys(tables, package)
  tables
}

dprk_read_table <- function(name, root = ".") {
  dprk_read_package(root)[[name]]
}
