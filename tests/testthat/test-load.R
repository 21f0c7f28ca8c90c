# testthat tests of scripts/load.R, run from the checkout root (tests/test_r_loader.py runs them).
root <- normalizePath(file.path(getwd(), "..", ".."))  # test_dir() runs in tests/testthat
source(file.path(root, "scripts", "load.R"))
tables <- dprk_read_package(root)

test_that("every table loads with the rows of its CSV file", {
  package <- jsonlite::fromJSON(file.path(root, "datapackage.json"), simplifyVector = FALSE)
  for (resource in package$resources) {
    lines <- length(readLines(file.path(root, resource$path), encoding = "UTF-8")) - 1
    expect_equal(nrow(tables[[resource$name]]), lines, info = resource$name)
  }
})

test_that("columns are typed from the Table Schemas", {
  launches <- tables$launches
  expect_s3_class(launches$korea_date, "Date")
  expect_s3_class(launches$launched_at_utc, "POSIXct")
  expect_equal(attr(launches$launched_at_utc, "tzone"), "UTC")
  expect_type(launches$missile_count, "integer")
  expect_type(launches$apogee_km, "double")
  expect_type(launches$sources_disagree, "logical")
  expect_s3_class(launches$missile_class, "factor")
  expect_true("ICBM" %in% levels(launches$missile_class))
  hwasong <- launches[launches$launch_id == "2022-01-30-1", ]
  expect_equal(hwasong$apogee_km, 2000)
  expect_equal(format(hwasong$launched_at_utc, "%Y-%m-%d %H:%M", tz = "UTC"), "2022-01-29 22:52")
  expect_equal(hwasong$korea_date, as.Date("2022-01-30"))
})

copy_package <- function() {
  copy <- tempfile("dprk")
  dir.create(file.path(copy, "data"), recursive = TRUE)
  file.copy(file.path(root, "datapackage.json"), copy)
  file.copy(list.files(file.path(root, "data"), full.names = TRUE), file.path(copy, "data"))
  copy
}

test_that("a duplicate primary key stops loading", {
  copy <- copy_package()
  actors <- readLines(file.path(copy, "data", "actors.csv"), encoding = "UTF-8")
  writeLines(c(actors, actors[2]), file.path(copy, "data", "actors.csv"))
  expect_error(dprk_read_package(copy), "duplicate primary key")
})

test_that("a dangling foreign key stops loading", {
  copy <- copy_package()
  links <- readLines(file.path(copy, "data", "launch_statements.csv"), encoding = "UTF-8")
  links[2] <- sub("^[^,]+", "2099-01-01-1", links[2])
  writeLines(links, file.path(copy, "data", "launch_statements.csv"))
  expect_error(dprk_read_package(copy), "launch_statements.launch_id: 1 value\\(s\\) not found in launches.launch_id")
})
