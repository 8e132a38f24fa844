--
-- Its functions, views and triggers now live, once each, in
-- schema/functions/ (see schema/README.md).

