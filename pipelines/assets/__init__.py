"""Asset factories. Not autoloaded: `pipelines/defs/` builds them from okr_defs when the location loads."""
