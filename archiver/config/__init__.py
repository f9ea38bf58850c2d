"""Settings: defaults, then a TOML file, then ARCHIVER_* environment variables; all validated.

Every error names where the bad value came from (the file and the key, or the variable) and what
is wrong with it; unknown keys are errors. See config/archiver.toml for the documented schema.
The schema is written once, as pydantic models (model.py); the value types pydantic lacks are in
types.py; reading the file and the environment, and the one-line errors, in loading.py.

Environment variables (they override the file):
  [archive] keys     ARCHIVER_<KEY>                      e.g. ARCHIVER_DATA_DIR
  other sections     ARCHIVER_<SECTION>_<KEY>            e.g. ARCHIVER_REFRESH_MAX_AGE
  a site's keys      ARCHIVER_SITE_<NAME>_<KEY>          e.g. ARCHIVER_SITE_MOA_URL
  a site's tables    ARCHIVER_SITE_<NAME>_<TABLE>_<KEY>  e.g. ARCHIVER_SITE_MOA_DISCOVERY_FEED
<NAME> is the site's name upper-cased with every other character than A-Z/0-9 turned to "_".
Setting ARCHIVER_SITE_<NAME>_URL for a name the file does not have adds that site. Lists are
comma-separated, durations are "90", "90s", "15m", "2h", "1d" or "1w", booleans true/false.
ARCHIVER_DELAY and ARCHIVER_USER_AGENT are kept as short names of ARCHIVER_FETCH_DELAY and
ARCHIVER_FETCH_USER_AGENT; ARCHIVER_CONFIG names the TOML file.
"""

from archiver.config.loading import env_name, load_settings, site_env_prefix
from archiver.config.model import (
    ArchiverConfig,
    DiscoveryConfig,
    PicturesPolicy,
    Politeness,
    RefreshPolicy,
    ScheduleConfig,
    SchedulerSettings,
    ServeSettings,
    Settings,
    SiteConfig,
)
from archiver.config.types import (
    check_cron,
    check_css_selector,
    check_url,
    format_duration,
    parse_duration,
    parse_since,
)

__all__ = [
    "ArchiverConfig", "DiscoveryConfig", "PicturesPolicy", "Politeness", "RefreshPolicy",
    "ScheduleConfig", "SchedulerSettings", "ServeSettings", "Settings", "SiteConfig", "check_cron",
    "check_css_selector", "check_url", "env_name", "format_duration", "load_settings",
    "parse_duration", "parse_since", "site_env_prefix",
]
