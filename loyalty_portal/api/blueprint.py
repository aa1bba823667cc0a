"""The JSON API's blueprint: flask-smorest's, with argument schemas built once."""

import flask_smorest


class Blueprint(flask_smorest.Blueprint):
    def arguments(self, schema, **kwargs):
        """flask-smorest's `arguments`, given a schema instance: webargs builds a new instance of
        a schema class for every request it parses, which cost the balance changes (the hot
        path) a tenth of their Python. A marshmallow schema's `load` keeps no state between
        calls, so one instance serves every request and thread."""
        if isinstance(schema, type):
            schema = schema()
        return super().arguments(schema, **kwargs)
