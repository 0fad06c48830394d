"""`tousu serve`: a read-only web view of the workspace for the office and the units (issue 14).

`app.create_app` builds the Starlette application; `reader` opens the journal read-only and keeps the
library's figures per journal version; `users` holds the accounts; `pages` the view models a template
renders; `charts` draws SVG on the server (the LAN has no internet: no CDN, no script)."""
