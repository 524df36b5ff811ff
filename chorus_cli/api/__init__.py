"""`chorus serve`'s HTTP adapter (API-1..3): the Chorus Pro API paths an integration
calls, over the store.

A thin layer: each request is parsed, given to one use case of
``chorus_cli.domain.integration`` in one short unit of work (opened, answered,
committed, closed: no lock held while the answer travels), and wrapped in the API's
envelope (``codeRetour``, ``libelle``). Starlette and uvicorn are imported here only,
and this package only by ``chorus serve`` (start-up time of every other command).
"""
