"""A small Django site that embeds the handbook, as a team's own site would."""
