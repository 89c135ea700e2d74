"""What a rulebook describes: citations, parameters, definitions and their bodies, entity kinds
and entities, business-day calendars. Imports only the layers below (errors, io, language)."""
