# Writes OUT, a C file holding every SCHEMA_DIR/*.sql (the numbered
# migrations, named "001_core.sql") and SCHEMA_DIR/functions/*.sql (the
# repeatable files, named "functions/blasts.sql") as byte arrays, each set
# in name order: const struct tocsin_migration tocsin_migrations[].
file(GLOB numbered ${SCHEMA_DIR}/[0-9]*.sql) # not current.sql, the dump
file(GLOB repeatable ${SCHEMA_DIR}/functions/*.sql)
list(SORT numbered)
list(SORT repeatable)
set(body "/* Generated from the .sql files of schema/ by ops/embed_schema.cmake. Do not edit. */\n#include \"migrations.h\"\n\n")
set(table "")
set(i 0)
foreach(f ${numbered} ${repeatable})
  get_filename_component(name ${f} NAME)
  get_filename_component(parent ${f} DIRECTORY)
  get_filename_component(parent ${parent} NAME)
  if(parent STREQUAL "functions")
    set(name "functions/${name}")
  endif()
  file(READ ${f} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(APPEND body "static const char sql_${i}[] = {${bytes}0};\n")
  string(APPEND table "    {\"${name}\", sql_${i}, sizeof sql_${i} - 1},\n")
  math(EXPR i "${i} + 1")
endforeach()
string(APPEND body "\nconst struct tocsin_migration tocsin_migrations[] = {\n${table}    {0, 0, 0},\n};\n")
file(WRITE ${OUT} "${body}")
