"""Real WordPress on loopback: one private MariaDB and one private Apache (mod_php, mod_rewrite)
serving three WordPress sites from Debian's core files in /usr/share/wordpress.

    with wordpress(tmp_dir) as wp:
        site = wp.sites["pretty"]        # also "plain" and "prefix"
        post = site.create_post("Title", ["First paragraph.", "Second."], author=uid)
        site.expected()                  # the ground truth of every published post

Each site has a docroot of its own: copies of the small top-level PHP files of WordPress (so
that `__DIR__`, hence ABSPATH, is the docroot), symlinks to wp-admin, wp-includes and
wp-content, and its own wp-config.php. Nothing is written outside the temporary folder, so
Debian's /etc/wordpress scheme is left alone. WordPress is installed with `wp_install` from
php-cli, never through the web installer; every helper runs PHP inside the site's WordPress
(wp-load.php with the site's HTTP_HOST) and returns what the PHP returns, as JSON.

Sites: `pretty` (/%year%/%monthnum%/%day%/%postname%/ at the root), `plain` (?p=123 at the
root: the REST API is only at /?rest_route=/) and `prefix` (pretty permalinks, the blog under
/blog/). WP-cron is disabled (DISABLE_WP_CRON): scheduled posts are published by the helper
the way cron does it, and no page view makes a loopback request that would count in the logs.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.support.helpers import free_port

WP_CORE = Path("/usr/share/wordpress")
APACHE_MODULES = Path("/usr/lib/apache2/modules")
DEADLINE = 120.0  # seconds; generous for a busy 2-core machine, never asserted on
# The Debian packages the suite needs; named in skip and failure messages.
APT_PACKAGES = "wordpress mariadb-server apache2 libapache2-mod-php php-mysql php-xml php-cli"

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class PlatformMissing(RuntimeError):
    """A binary or file that the real-WordPress fixture needs is not installed."""


@dataclass(frozen=True)
class SiteSpec:
    """How one of the three sites is set up."""

    name: str
    permalinks: str  # "" for plain ?p=123 links
    path: str  # "/" or "/blog/"
    blogname: str
    timezone: str


SPECS = (
    SiteSpec(
        "pretty", "/%year%/%monthnum%/%day%/%postname%/", "/", "The Pretty Gazette", "Europe/Berlin"
    ),
    SiteSpec("plain", "", "/", "Plain & Simple Courier", "America/New_York"),
    SiteSpec("prefix", "/%year%/%monthnum%/%day%/%postname%/", "/blog/", "Préfixe Tribune", "UTC"),
)


@dataclass(frozen=True)
class Request:
    """One line of a site's Apache access log."""

    method: str
    target: str  # path and query, as requested
    status: int
    user_agent: str


_LOG_LINE = re.compile(r'^\S+ \[[^\]]+\] "(\S+) (\S+)[^"]*" (\d{3}) \S+ "([^"]*)"')


def binaries() -> dict[str, str]:
    """Paths of everything the fixture runs; PlatformMissing names what is not installed."""
    found: dict[str, str] = {}
    wanted = {
        "mariadbd": ("mariadbd", "mysqld"),
        "install_db": ("mariadb-install-db", "mysql_install_db"),
        "client": ("mariadb", "mysql"),
        "apache2": ("apache2", "httpd"),
        "php": ("php",),
    }
    path = os.environ.get("PATH", "") + os.pathsep + "/usr/sbin:/sbin"
    missing = []
    for key, names in wanted.items():
        hit = next((shutil.which(n, path=path) for n in names if shutil.which(n, path=path)), None)
        if hit:
            found[key] = hit
        else:
            missing.append(names[0])
    libphp = sorted(APACHE_MODULES.glob("libphp*.so"))
    if libphp:
        found["libphp"] = str(libphp[-1])
    else:
        missing.append(f"{APACHE_MODULES}/libphp*.so")
    for module in ("mod_mpm_prefork", "mod_rewrite", "mod_dir", "mod_mime", "mod_authz_core"):
        if not (APACHE_MODULES / f"{module}.so").exists():
            missing.append(f"{APACHE_MODULES}/{module}.so")
    if not (WP_CORE / "wp-load.php").exists():
        missing.append(f"{WP_CORE}/wp-load.php")
    if "php" in found:
        modules = subprocess.run([found["php"], "-m"], capture_output=True, text=True).stdout
        # WordPress's sitemaps need SimpleXML (php-xml); without it wp-sitemap.xml is a 501.
        for module in ("mysqli", "SimpleXML"):
            if module not in modules.split():
                missing.append(f"PHP module {module}")
    if missing:
        raise PlatformMissing(
            f"real WordPress needs {', '.join(missing)} (apt-get install {APT_PACKAGES})"
        )
    return found


def _php_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def wp_datetime(value: datetime | str) -> str:
    """WordPress's 'YYYY-MM-DD HH:MM:SS' (a tz-aware datetime is converted to UTC first)."""
    if isinstance(value, str):
        return value
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S")


def block_content(paragraphs: Sequence[str]) -> str:
    """Post content as the block editor saves it: one paragraph block a paragraph."""
    from html import escape

    return "\n\n".join(
        f"<!-- wp:paragraph -->\n<p>{escape(p, quote=False)}</p>\n<!-- /wp:paragraph -->"
        for p in paragraphs
    )


# PHP run before every helper: the site's HTTP_HOST, then WordPress itself.
_PRELUDE = """<?php
$_SERVER['HTTP_HOST'] = %(host)s;
$_SERVER['SERVER_NAME'] = '127.0.0.1';
$_SERVER['SERVER_PORT'] = %(port)s;
$_SERVER['REQUEST_URI'] = %(path)s;
$_SERVER['REQUEST_METHOD'] = 'GET';
$_SERVER['REMOTE_ADDR'] = '127.0.0.1';
define('WP_USE_THEMES', false);
%(before)s
require %(load)s;
$args = json_decode(file_get_contents('php://stdin'), true);
$wa_result = (function (array $args) {
%(code)s
})($args);
echo "\\n@@WIREARCHIVE-JSON@@",
    json_encode($wa_result, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
"""

# Shared PHP functions for the helpers (defined once per PHP run).
_FUNCTIONS = r"""
function wa_truth(WP_Post $p): array {
    global $post;
    $post = $p;
    setup_postdata($p);
    $names = fn($terms) => array_values(array_map(
        fn($t) => html_entity_decode($t->name, ENT_QUOTES | ENT_HTML5, 'UTF-8'),
        is_array($terms) ? $terms : []));
    $rendered = get_the_title($p);
    if (post_password_required($p) || $p->post_password !== '') {
        // get_the_title() prefixes "Protected: "; the ground truth is the title itself.
        remove_all_filters('protected_title_format');
        add_filter('protected_title_format', fn() => '%s');
        $rendered = get_the_title($p);
    }
    $content = apply_filters('the_content', $p->post_content);
    wp_reset_postdata();
    return [
        'id' => $p->ID,
        'type' => $p->post_type,
        'status' => $p->post_status,
        'link' => get_permalink($p),
        'title' => html_entity_decode($rendered, ENT_QUOTES | ENT_HTML5, 'UTF-8'),
        'raw_title' => $p->post_title,
        'author' => get_the_author_meta('display_name', $p->post_author),
        'date_gmt' => $p->post_date_gmt,
        'date' => $p->post_date,
        'modified_gmt' => $p->post_modified_gmt,
        'categories' => $p->post_type === 'post' ? $names(get_the_category($p->ID)) : [],
        'tags' => $p->post_type === 'post' ? $names(get_the_tags($p->ID)) : [],
        'content_html' => str_replace(']]>', ']]&gt;', $content),
        'raw_content' => $p->post_content,
        'protected' => $p->post_password !== '',
    ];
}
function wa_terms(array $names, string $taxonomy): array {
    $ids = [];
    foreach ($names as $name) {
        $term = term_exists($name, $taxonomy);
        if (!$term) {
            $term = wp_insert_term($name, $taxonomy);
            if (is_wp_error($term)) { throw new Exception($term->get_error_message()); }
        }
        $ids[] = (int) $term['term_id'];
    }
    return $ids;
}
"""


@dataclass
class Site:
    """One WordPress site of the running platform."""

    spec: SiteSpec
    port: int
    root: Path  # this site's folder: docroot(s), wp-config.php
    db_name: str
    socket: Path
    php_binary: str
    access_log: Path
    users: dict[str, int] = field(default_factory=dict)  # display name -> user id

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def home(self) -> str:
        """The blog's home URL, with its trailing slash."""
        return self.origin + self.spec.path

    @property
    def docroot(self) -> Path:
        """Where WordPress's files are (the blog, not the server's document root)."""
        return self.root / "htdocs" / self.spec.path.strip("/")  # "" for a blog at the root

    @property
    def api_root(self) -> str:
        """The REST API root as the `api.w.org` link gives it."""
        if self.spec.permalinks:
            return self.home + "wp-json/"
        return self.home + "index.php?rest_route=/"

    def api(self, route: str, **query: str | int) -> str:
        """URL of a REST route (e.g. "/wp/v2/posts") with query parameters."""
        from urllib.parse import urlencode

        if self.spec.permalinks:
            url = self.api_root + route.lstrip("/")
            return url + ("?" + urlencode(query) if query else "")
        return self.home + "?" + urlencode({"rest_route": route, **query})

    # -- PHP inside WordPress --------------------------------------------------------------

    def php(
        self,
        code: str,
        args: dict[str, Any] | None = None,
        *,
        installing: bool = False,
        timeout: float = DEADLINE,
    ) -> Any:
        """Run `code` (a PHP function body that sees `$args` and returns a value) inside this
        site's WordPress; its return value, decoded from JSON."""
        script = _PRELUDE % {
            "host": _php_string(f"127.0.0.1:{self.port}"),
            "port": _php_string(str(self.port)),
            "path": _php_string(self.spec.path),
            "before": ("define('WP_INSTALLING', true);\n" if installing else "") + _FUNCTIONS,
            "load": _php_string(str(self.docroot / "wp-load.php")),
            "code": code,
        }
        path = self.root / f"run-{secrets.token_hex(4)}.php"
        path.write_text(script)
        try:
            proc = subprocess.run(
                [
                    self.php_binary,
                    "-d",
                    "display_errors=stderr",
                    "-d",
                    "memory_limit=512M",
                    str(path),
                ],
                input=json.dumps(args or {}),
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        finally:
            path.unlink(missing_ok=True)
        marker = "@@WIREARCHIVE-JSON@@"
        if proc.returncode != 0 or marker not in proc.stdout:
            raise RuntimeError(
                f"PHP in WordPress site {self.name} failed ({proc.returncode}):\n"
                f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
            )
        return json.loads(proc.stdout.rsplit(marker, 1)[1])

    # -- content helpers -------------------------------------------------------------------

    def create_user(self, display_name: str, login: str | None = None) -> int:
        """A user with the author role; its id (also kept in `users`)."""
        login = login or re.sub(r"[^a-z0-9]+", "", display_name.lower()) or "user"
        uid = int(
            self.php(
                """
            $id = wp_insert_user(['user_login' => $args['login'],
                'user_pass' => wp_generate_password(),
                'user_email' => $args['login'] . '@example.org', 'display_name' => $args['name'],
                'nickname' => $args['name'], 'role' => 'author']);
            if (is_wp_error($id)) { throw new Exception($id->get_error_message()); }
            return $id;
            """,
                {"login": login, "name": display_name},
            )
        )
        self.users[display_name] = uid
        return uid

    def create_post(
        self,
        title: str,
        paragraphs: Sequence[str] = (),
        *,
        content: str | None = None,
        author: int | str | None = None,
        date_gmt: datetime | str | None = None,
        date: datetime | str | None = None,
        status: str = "publish",
        categories: Sequence[str] = (),
        tags: Sequence[str] = (),
        password: str = "",
        post_type: str = "post",
        modified_gmt: datetime | str | None = None,
    ) -> int:
        """Insert a post (or page) with `wp_insert_post`; its id. `author` is a user id or a
        display name made with `create_user`; `date_gmt` (UTC) or `date` (site local time);
        `status` publish, draft, private or future (a future date is needed for future);
        `modified_gmt` forces post_modified afterwards, as an importer leaves it."""
        return int(
            self.create_posts(
                [
                    dict(
                        title=title,
                        paragraphs=list(paragraphs),
                        content=content,
                        author=author,
                        date_gmt=date_gmt,
                        date=date,
                        status=status,
                        categories=list(categories),
                        tags=list(tags),
                        password=password,
                        post_type=post_type,
                        modified_gmt=modified_gmt,
                    )
                ]
            )[0]
        )

    def create_posts(self, posts: Sequence[dict[str, Any]]) -> list[int]:
        """Many `create_post` calls (same keyword names, in dicts) in one PHP run."""
        specs = []
        for p in posts:
            author = p.get("author")
            if isinstance(author, str):
                author = self.users[author]
            content = p.get("content")
            if content is None:
                content = block_content(p.get("paragraphs") or [])
            specs.append(
                {
                    "post_title": p["title"],
                    "post_content": content,
                    "post_author": author or 1,
                    "post_status": p.get("status", "publish"),
                    "post_type": p.get("post_type", "post"),
                    "post_password": p.get("password", ""),
                    "post_date_gmt": wp_datetime(p["date_gmt"]) if p.get("date_gmt") else "",
                    "post_date": wp_datetime(p["date"]) if p.get("date") else "",
                    "categories": list(p.get("categories") or []),
                    "tags": list(p.get("tags") or []),
                    "modified_gmt": wp_datetime(p["modified_gmt"]) if p.get("modified_gmt") else "",
                }
            )
        return [
            int(i)
            for i in self.php(
                """
            global $wpdb;
            $ids = [];
            foreach ($args['posts'] as $s) {
                $arr = ['post_title' => wp_slash($s['post_title']),
                        'post_content' => wp_slash($s['post_content']),
                        'post_author' => $s['post_author'], 'post_status' => $s['post_status'],
                        'post_type' => $s['post_type'], 'post_password' => $s['post_password'],
                        'comment_status' => 'open'];
                if ($s['post_date_gmt'] !== '') { $arr['post_date_gmt'] = $s['post_date_gmt']; }
                if ($s['post_date'] !== '') { $arr['post_date'] = $s['post_date']; }
                if ($s['post_date_gmt'] !== '' && $s['post_date'] === '') {
                    $arr['post_date'] = get_date_from_gmt($s['post_date_gmt']);
                }
                if ($s['post_type'] === 'post') {
                    $arr['post_category'] = $s['categories']
                        ? wa_terms($s['categories'], 'category') : [];
                    $arr['tags_input'] = $s['tags'] ? wa_terms($s['tags'], 'post_tag') : [];
                }
                $id = wp_insert_post($arr, true);
                if (is_wp_error($id)) { throw new Exception($id->get_error_message()); }
                if ($s['modified_gmt'] !== '') {
                    $wpdb->update($wpdb->posts, ['post_modified_gmt' => $s['modified_gmt'],
                        'post_modified' => get_date_from_gmt($s['modified_gmt'])], ['ID' => $id]);
                    clean_post_cache($id);
                }
                $ids[] = $id;
            }
            return $ids;
            """,
                {"posts": specs},
            )
        ]

    def update_post(
        self,
        post_id: int,
        *,
        title: str | None = None,
        paragraphs: Sequence[str] | None = None,
        content: str | None = None,
        password: str | None = None,
    ) -> dict[str, Any]:
        """Edit a post as the editor does (`wp_update_post`: post_modified becomes now); its
        new ground truth."""
        if paragraphs is not None:
            content = block_content(paragraphs)
        return dict(
            self.php(
                """
            $arr = ['ID' => $args['id']];
            if ($args['title'] !== null) { $arr['post_title'] = wp_slash($args['title']); }
            if ($args['content'] !== null) { $arr['post_content'] = wp_slash($args['content']); }
            if ($args['password'] !== null) { $arr['post_password'] = $args['password']; }
            $r = wp_update_post($arr, true);
            if (is_wp_error($r)) { throw new Exception($r->get_error_message()); }
            clean_post_cache($args['id']);
            return wa_truth(get_post($args['id']));
            """,
                {"id": post_id, "title": title, "content": content, "password": password},
            )
        )

    def trash_post(self, post_id: int) -> None:
        """Move a post to the trash (`wp_trash_post`)."""
        self.php("return (bool) wp_trash_post($args['id']);", {"id": post_id})

    def delete_post(self, post_id: int) -> None:
        """Delete a post permanently (`wp_delete_post(id, true)`)."""
        self.php("return (bool) wp_delete_post($args['id'], true);", {"id": post_id})

    def publish_scheduled(
        self, post_id: int, *, date_gmt: datetime | str, scheduled_on: datetime | str
    ) -> dict[str, Any]:
        """Publish a `future` post the way WP-cron does (`wp_publish_post`, which changes only
        the status), with its date `date_gmt` (the time it was due) and post_modified
        `scheduled_on`, the day the author scheduled it: both can be older than the last crawl.
        Its new ground truth."""
        return dict(
            self.php(
                """
            global $wpdb;
            $wpdb->update($wpdb->posts, [
                'post_date_gmt' => $args['date_gmt'],
                'post_date' => get_date_from_gmt($args['date_gmt']),
                'post_modified_gmt' => $args['modified_gmt'],
                'post_modified' => get_date_from_gmt($args['modified_gmt'])],
                ['ID' => $args['id']]);
            clean_post_cache($args['id']);
            if (get_post_status($args['id']) !== 'future') { throw new Exception('not future'); }
            wp_publish_post($args['id']);
            clean_post_cache($args['id']);
            return wa_truth(get_post($args['id']));
            """,
                {
                    "id": post_id,
                    "date_gmt": wp_datetime(date_gmt),
                    "modified_gmt": wp_datetime(scheduled_on),
                },
            )
        )

    def backdate(
        self, post_id: int, date_gmt: datetime | str, *, modified_gmt: datetime | str | None = None
    ) -> dict[str, Any]:
        """Set a post's date to `date_gmt` with `wp_update_post` (which makes post_modified
        now), then force post_modified to `modified_gmt` when given, as an importer leaves it."""
        return dict(
            self.php(
                """
            global $wpdb;
            $r = wp_update_post(['ID' => $args['id'], 'post_date_gmt' => $args['date_gmt'],
                'post_date' => get_date_from_gmt($args['date_gmt']), 'edit_date' => true], true);
            if (is_wp_error($r)) { throw new Exception($r->get_error_message()); }
            if ($args['modified_gmt'] !== '') {
                $wpdb->update($wpdb->posts, ['post_modified_gmt' => $args['modified_gmt'],
                    'post_modified' => get_date_from_gmt($args['modified_gmt'])],
                    ['ID' => $args['id']]);
            }
            clean_post_cache($args['id']);
            return wa_truth(get_post($args['id']));
            """,
                {
                    "id": post_id,
                    "date_gmt": wp_datetime(date_gmt),
                    "modified_gmt": wp_datetime(modified_gmt) if modified_gmt else "",
                },
            )
        )

    def add_comment(self, post_id: int, author: str, text: str) -> int:
        """An approved comment on a post by `author` (a visitor, not a user); its id."""
        return int(
            self.php(
                """
            $id = wp_insert_comment(['comment_post_ID' => $args['id'],
                'comment_author' => $args['author'], 'comment_author_email' => 'reader@example.org',
                'comment_author_url' => '', 'comment_content' => $args['text'],
                'comment_approved' => 1, 'comment_type' => 'comment']);
            if (!$id) { throw new Exception('comment not inserted'); }
            return $id;
            """,
                {"id": post_id, "author": author, "text": text},
            )
        )

    def post(self, post_id: int) -> dict[str, Any] | None:
        """The ground truth of one post or page, whatever its status (None if deleted)."""
        return self.php(
            "$p = get_post($args['id']); return $p ? wa_truth($p) : null;", {"id": post_id}
        )

    def expected(self, post_type: str = "post") -> list[dict[str, Any]]:
        """The ground truth of every published post (or page), oldest first: id, link, title
        (as WordPress renders it, entities decoded; `raw_title` as typed), author display name,
        date_gmt, modified_gmt (WordPress's 'YYYY-MM-DD HH:MM:SS', UTC), categories, tags,
        content_html (the_content as WordPress renders it), protected (has a password)."""
        return list(
            self.php(
                """
            $q = get_posts(['post_type' => $args['type'], 'post_status' => 'publish',
                'numberposts' => -1, 'orderby' => 'date', 'order' => 'ASC',
                'suppress_filters' => true]);
            return array_map('wa_truth', $q);
            """,
                {"type": post_type},
            )
        )

    def statuses(self) -> dict[int, str]:
        """post id -> status of every post and page in the database (trash included)."""
        rows = self.php(
            """
            global $wpdb;
            return $wpdb->get_results("SELECT ID, post_status FROM $wpdb->posts
                WHERE post_type IN ('post', 'page')", ARRAY_A);
            """
        )
        return {int(r["ID"]): r["post_status"] for r in rows}

    # -- the access log --------------------------------------------------------------------

    def log_mark(self) -> int:
        """A position in the access log; `requests(since=mark)` gives what came after it."""
        return self.access_log.stat().st_size if self.access_log.exists() else 0

    def requests(self, since: int = 0) -> list[Request]:
        """Requests Apache served to this site (one log line each), from `since` on. Apache
        logs a request after answering it: wait until the log has been still for 0.5 s."""
        if not self.access_log.exists():
            return []
        size, still, end = -1, time.monotonic(), time.monotonic() + 30
        while time.monotonic() < end:
            now = self.access_log.stat().st_size
            if now != size:
                size, still = now, time.monotonic()
            elif time.monotonic() - still >= 0.5:
                break
            time.sleep(0.1)
        with self.access_log.open("rb") as f:
            f.seek(since)
            lines = f.read().decode("utf-8", "replace").splitlines()
        out = []
        for line in lines:
            m = _LOG_LINE.match(line)
            if m:
                out.append(Request(m[1], m[2], int(m[3]), m[4]))
        return out


def _wait(
    check: Any,
    what: str,
    proc: subprocess.Popen[bytes] | None,
    log: Path | None,
    deadline: float = DEADLINE,
) -> None:
    """Poll `check()` until true; on timeout or a dead `proc`, raise with the log's tail."""
    end = time.monotonic() + deadline
    while True:
        if proc is not None and proc.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{tail}")
        with contextlib.suppress(Exception):
            if check():
                return
        if time.monotonic() > end:
            tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
            raise RuntimeError(f"{what} not ready after {deadline:.0f} s:\n{tail}")
        time.sleep(0.2)


def _stop(proc: subprocess.Popen[bytes] | None, grace: float = 15.0) -> None:
    """SIGTERM, then SIGKILL (to its process group, which it leads) after `grace` seconds."""
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def http_get(url: str, timeout: float = 30, **headers: str) -> tuple[int, Any, bytes]:
    """GET without proxies or redirects followed; (status, headers, body), errors included."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect())
    request = urllib.request.Request(
        url, headers={k.replace("_", "-"): v for k, v in headers.items()}
    )
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


CORPUS = Path(__file__).with_name("posts.json")
AUTHORS = ("Ada Lovelace", "Grace Hopper", "Émile Zola")
COMMENTERS = ("Charles Babbage", "Mary Shelley")
CATEGORIES = ("World", "Technology", "Science & Nature", "Culture")
TAGS = ("climate", "wire", "R&D", "Zürich", "café", "politics")
PUBLISHED = 30
FIRST_DATE = datetime(2023, 1, 5, 7, 30, tzinfo=UTC)


def corpus() -> list[dict[str, Any]]:
    """The 40 corpus articles (title, paragraphs) of tests/conformance/posts.json."""
    return list(json.loads(CORPUS.read_text())["posts"])


@dataclass
class Population:
    """What `populate` made on a site: post ids by role, and corpus articles left unused."""

    published: list[int]
    draft: int
    private: int
    future: int
    trashed: int
    protected: int
    pages: list[int]
    commented: list[int]
    spare: list[dict[str, Any]]


def site_paragraphs(site: Site, article: dict[str, Any], label: str) -> list[str]:
    """An article's paragraphs after a lead naming `site`: copies on several sites differ."""
    return [f"Filed to {site.spec.blogname} as {label}.", *article["paragraphs"]]


def populate(site: Site, articles: Sequence[dict[str, Any]] | None = None) -> Population:
    """Fill `site`: 3 authors, 30 published posts (articles 0-29 after a lead paragraph naming
    the site, every 9 days from 2023-01-05 07:30 UTC,
    1-2 categories and 0-3 tags each, tags "R&D" and "Zürich" among them), approved comments by
    non-authors on every fifth post, then one draft, private, future (due in 30 days), trashed
    and password-protected ("secret") post, and 2 pages. `spare` keeps the articles not used."""
    from datetime import timedelta

    articles = list(articles if articles is not None else corpus())
    for name in AUTHORS:
        if name not in site.users:
            site.create_user(name)
    specs: list[dict[str, Any]] = []
    for i, article in enumerate(articles[:PUBLISHED]):
        specs.append(
            dict(
                title=article["title"],
                # A lead of the site's own: the three sites' copies of a story are near-duplicates
                # (one story, three blogs), not exact ones that the archive would fold together.
                paragraphs=[
                    f"Filed to {site.spec.blogname} as story {i + 1}.",
                    *article["paragraphs"],
                ],
                author=AUTHORS[i % len(AUTHORS)],
                date_gmt=FIRST_DATE + timedelta(days=9 * i, hours=(5 * i) % 13, minutes=7 * i % 60),
                categories=[CATEGORIES[i % 4], *([CATEGORIES[(i + 1) % 4]] if i % 3 == 0 else [])],
                tags=[TAGS[(i + k) % len(TAGS)] for k in range(i % 4)],
            )
        )
    extra = articles[PUBLISHED : PUBLISHED + 7]
    now = datetime.now(UTC).replace(microsecond=0)
    roles = ("draft", "private", "future", "trashed", "protected")
    for role, article in zip(roles, extra, strict=False):
        specs.append(
            dict(
                title=article["title"],
                author=AUTHORS[0],
                paragraphs=[
                    f"Filed to {site.spec.blogname} as a {role} post.",
                    *article["paragraphs"],
                ],
                status={"draft": "draft", "private": "private", "future": "future"}.get(
                    role, "publish"
                ),
                date_gmt=now + timedelta(days=30) if role == "future" else now - timedelta(days=3),
                password="secret" if role == "protected" else "",
                categories=[CATEGORIES[0]],
                tags=[TAGS[0]],
            )
        )
    for article in extra[len(roles) :]:
        specs.append(
            dict(
                title=article["title"],
                paragraphs=[f"A page of {site.spec.blogname}.", *article["paragraphs"]],
                author=AUTHORS[1],
                post_type="page",
                date_gmt=now - timedelta(days=40),
            )
        )
    ids = site.create_posts(specs)
    published = ids[:PUBLISHED]
    by_role = dict(zip(roles, ids[PUBLISHED : PUBLISHED + len(roles)], strict=True))
    site.trash_post(by_role["trashed"])
    commented = published[::5]
    for n, post_id in enumerate(commented):
        site.add_comment(
            post_id, COMMENTERS[n % 2], f"A reader's comment number {n}: thank you for this piece."
        )
    return Population(
        published=published,
        pages=ids[PUBLISHED + len(roles) :],
        commented=commented,
        spare=articles[PUBLISHED + 7 :],
        **by_role,
    )


class WordPressPlatform:
    """The running MariaDB and Apache, and the three sites (`sites[name]`)."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.bin = binaries()
        self.sites: dict[str, Site] = {}
        self.mariadb: subprocess.Popen[bytes] | None = None
        self.apache: subprocess.Popen[bytes] | None = None
        self.socket = base / "mysqld.sock"
        self.startup_seconds = 0.0

    # -- MariaDB ---------------------------------------------------------------------------

    def _start_mariadb(self) -> None:
        data = self.base / "mysql"
        log = self.base / "mariadb.log"
        as_root = ["--user=root"] if os.geteuid() == 0 else []
        subprocess.run(
            [
                self.bin["install_db"],
                "--no-defaults",
                f"--datadir={data}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                *as_root,
            ],
            check=True,
            capture_output=True,
            timeout=DEADLINE,
        )
        self.mariadb = subprocess.Popen(
            [
                self.bin["mariadbd"],
                "--no-defaults",
                f"--datadir={data}",
                f"--socket={self.socket}",
                "--skip-networking",
                f"--pid-file={self.base}/mariadb.pid",
                f"--log-error={log}",
                "--innodb-buffer-pool-size=64M",
                "--innodb-flush-log-at-trx-commit=0",
                "--skip-log-bin",
                "--skip-name-resolve",
                "--character-set-server=utf8mb4",
                *as_root,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        _wait(lambda: self.sql("SELECT 1") is not None, "MariaDB", self.mariadb, log)

    def sql(self, statement: str) -> str:
        """Run SQL as MariaDB's root through the private socket; its output."""
        proc = subprocess.run(
            [
                self.bin["client"],
                "--no-defaults",
                f"--socket={self.socket}",
                "-uroot",
                "-N",
                "-e",
                statement,
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr)
        return proc.stdout

    # -- the sites' files ------------------------------------------------------------------

    def _make_site(self, spec: SiteSpec, port: int) -> Site:
        root = self.base / spec.name
        site = Site(
            spec,
            port,
            root,
            f"wp_{spec.name}",
            self.socket,
            self.bin["php"],
            self.base / "apache" / f"access-{spec.name}.log",
        )
        docroot = site.docroot
        docroot.mkdir(parents=True)
        for entry in WP_CORE.iterdir():
            if entry.name in ("wp-config.php", "wp-config-sample.php"):
                continue
            if entry.is_file():
                shutil.copy(entry, docroot / entry.name)  # __DIR__ must be the docroot
            else:
                (docroot / entry.name).symlink_to(entry)
        keys = "\n".join(
            f"define('{k}', '{secrets.token_hex(24)}');"
            for k in (
                "AUTH_KEY",
                "SECURE_AUTH_KEY",
                "LOGGED_IN_KEY",
                "NONCE_KEY",
                "AUTH_SALT",
                "SECURE_AUTH_SALT",
                "LOGGED_IN_SALT",
                "NONCE_SALT",
            )
        )
        home = site.home.rstrip("/")
        (docroot / "wp-config.php").write_text(f"""<?php
/* wirearchive conformance suite: site {spec.name}, made by tests/conformance/wordpress.py */
define('DB_NAME', '{site.db_name}');
define('DB_USER', 'root');
define('DB_PASSWORD', '');
define('DB_HOST', 'localhost:{self.socket}');
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
{keys}
$table_prefix = 'wp_';
define('WP_HOME', '{home}');
define('WP_SITEURL', '{home}');
define('DISABLE_WP_CRON', true);
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_AUTO_UPDATE_CORE', false);
define('WP_DEBUG', false);
define('WP_CONTENT_DIR', '{WP_CORE}/wp-content');
if (!defined('ABSPATH')) {{ define('ABSPATH', __DIR__ . '/'); }}
require_once ABSPATH . 'wp-settings.php';
""")
        return site

    def _install(self, site: Site) -> None:
        self.sql(f"CREATE DATABASE {site.db_name} CHARACTER SET utf8mb4")
        site.php(
            """
            require_once ABSPATH . 'wp-admin/includes/upgrade.php';
            global $wp_rewrite;
            $r = wp_install($args['blogname'], 'admin', 'admin@example.org', true, '',
                            wp_generate_password());
            update_option('blogdescription', 'A site of the wirearchive conformance suite');
            update_option('timezone_string', $args['timezone']);
            update_option('gmt_offset', '');
            update_option('blog_public', '1');
            update_option('default_comment_status', 'open');
            update_option('comment_registration', 0);
            update_option('comment_moderation', 0);
            // The defaults wp_install made: the ground truth is only what the tests publish.
            foreach (get_posts(['post_type' => ['post', 'page'], 'post_status' => 'any',
                                'numberposts' => -1]) as $p) {
                if ($p->post_status !== 'draft') { wp_delete_post($p->ID, true); }
            }
            $wp_rewrite->set_permalink_structure($args['permalinks']);
            update_option('rewrite_rules', '');
            return $r['user_id'];
            """,
            {
                "blogname": site.spec.blogname,
                "timezone": site.spec.timezone,
                "permalinks": site.spec.permalinks,
            },
            installing=True,
        )
        # The rewrite rules are made on the first normal load.
        site.php("flush_rewrite_rules(false); return get_option('permalink_structure');")

    # -- Apache ----------------------------------------------------------------------------

    def _apache_config(self) -> Path:
        apache = self.base / "apache"
        (apache / "run").mkdir(parents=True, exist_ok=True)
        modules = "\n".join(
            f"LoadModule {name}_module {APACHE_MODULES}/mod_{name}.so"
            for name in ("mpm_prefork", "authz_core", "dir", "mime", "rewrite", "alias")
        )
        user = "User www-data\nGroup www-data\n" if os.geteuid() == 0 else ""
        vhosts = []
        for site in self.sites.values():
            base = site.spec.path
            vhosts.append(f"""
Listen 127.0.0.1:{site.port}
<VirtualHost 127.0.0.1:{site.port}>
    ServerName 127.0.0.1
    DocumentRoot "{site.root / "htdocs"}"
    CustomLog "{site.access_log}" wirearchive
    <Directory "{site.root / "htdocs"}">
        Options FollowSymLinks
        Require all granted
    </Directory>
    <Directory "{site.docroot}">
        Options FollowSymLinks
        Require all granted
        RewriteEngine On
        RewriteBase {base}
        RewriteRule ^index\\.php$ - [L]
        RewriteCond %{{REQUEST_FILENAME}} !-f
        RewriteCond %{{REQUEST_FILENAME}} !-d
        RewriteRule . {base}index.php [L]
    </Directory>
</VirtualHost>""")
        conf = apache / "httpd.conf"
        conf.write_text(f"""# wirearchive conformance suite: a private Apache for real WordPress
ServerRoot "{apache}"
ServerName 127.0.0.1
PidFile "{apache}/httpd.pid"
DefaultRuntimeDir "{apache}/run"
Mutex file:{apache}/run default
ErrorLog "{apache}/error.log"
LogLevel warn
{modules}
LoadModule php_module {self.bin["libphp"]}
{user}
TypesConfig /etc/mime.types
StartServers 3
MinSpareServers 2
MaxSpareServers 8
MaxRequestWorkers 16
Timeout 120
KeepAlive On
KeepAliveTimeout 5
ServerTokens Prod
DirectoryIndex index.php index.html
<FilesMatch "\\.php$">
    SetHandler application/x-httpd-php
</FilesMatch>
<Directory />
    Options None
    AllowOverride None
    Require all denied
</Directory>
<Directory "{WP_CORE}">
    Options FollowSymLinks
    Require all granted
</Directory>
LogFormat "%h %t \\"%r\\" %>s %b \\"%{{User-Agent}}i\\" %D" wirearchive
{"".join(vhosts)}
""")
        return conf

    def _start_apache(self) -> None:
        conf = self._apache_config()
        log = self.base / "apache" / "error.log"
        check = subprocess.run(
            [self.bin["apache2"], "-t", "-f", str(conf)], capture_output=True, text=True, timeout=60
        )
        if check.returncode != 0:
            raise RuntimeError(f"Apache config test failed:\n{check.stderr}")
        self.apache = subprocess.Popen(
            [self.bin["apache2"], "-f", str(conf), "-DFOREGROUND"],
            stdout=subprocess.DEVNULL,
            stderr=(self.base / "apache" / "stderr.log").open("wb"),
            start_new_session=True,
        )

        def ready() -> bool:
            for site in self.sites.values():
                status, _, _ = http_get(site.home + "?wirearchive-ready", timeout=10)
                if status != 200:
                    return False
            return True

        _wait(ready, "Apache", self.apache, log)
        # The readiness probes are not the tests' requests.
        for site in self.sites.values():
            site.access_log.write_bytes(b"")

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        started = time.monotonic()
        os.chmod(self.base, 0o755)  # Apache's children (www-data) read the docroots
        self._start_mariadb()
        ports: set[int] = set()
        while len(ports) < len(SPECS):
            ports.add(free_port())
        for spec, port in zip(SPECS, sorted(ports), strict=True):
            self.sites[spec.name] = self._make_site(spec, port)
        for site in self.sites.values():
            self._install(site)
        self._start_apache()
        self.startup_seconds = time.monotonic() - started

    def stop(self) -> None:
        _stop(self.apache)
        _stop(self.mariadb)


@contextlib.contextmanager
def wordpress(base: Path | None = None) -> Iterator[WordPressPlatform]:
    """Start MariaDB, install the three sites and start Apache; stop both on exit, whatever
    happens. `base` (default: a new temporary folder, removed afterwards) holds everything."""
    own = base is None
    folder = Path(tempfile.mkdtemp(prefix="wirearchive-wp-")) if own else base
    assert folder is not None
    folder.mkdir(parents=True, exist_ok=True)
    platform = WordPressPlatform(folder)
    # A SIGTERM (a CI timeout, `kill`) would end Python without running `finally`, leaving
    # MariaDB and Apache behind: turn it into SystemExit while the platform runs.
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        platform.start()
        yield platform
    finally:
        platform.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if own:
            shutil.rmtree(folder, ignore_errors=True)


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)
