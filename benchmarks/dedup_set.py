"""Labelled near-duplicate set for `benchmarks/dedup.py`, generated from ../shared/corpus.

Nothing here is copied into the repository: `generate(corpus, seed)` rebuilds the same set from the
corpus pages every time (deterministic for a seed; about 10 s, mostly trafilatura).

Stories. Every corpus page whose extracted text (`pipelines.extraction.extract_article`, pages
decoded as UTF-8 with errors="replace") has at least `MIN_WORDS` words is one story; its text is
split into paragraphs at line breaks.

Roles.
- original: the real corpus page, as served (it is the wire/original copy of its story).
- repost: the story's text re-published on one of `SITES` (24 fictional sites on 6 templates:
  Blogger, WordPress, news aggregator, minimal personal blog, Substack-like newsletter, Tumblr-like
  reblog), each page with its own header, sidebar, related-post lists, comments and footer. A story
  gets 1 to 6 reposts, on distinct sites. Each repost varies the text the way reposters do:
  1-3 % word edits always (typos made or fixed, synonym or neighbour swaps, deletions, insertions),
  and at random an intro line ("Via Reuters:", an editor's note), a credit line ("Sputnik",
  "Source: AFP", the seed post's title + credit header), the last 1-3 paragraphs trimmed (never more
  than `MAX_TRIM_SHARE` of the words), one or two paragraphs of the blogger's own commentary, and a
  slightly changed headline.
- negative: a story of its own that no other item tells, rendered on the same sites as the reposts:
  * topic: a different article on the same subject as an English corpus story: a headline built
    on the story's key words, a lead on the same subject, one paragraph of the story quoted (at
    most 80 words and `MAX_QUOTE_SHARE` of the story), the rest sentences of the corpus stories
    nearest in vocabulary (TF-IDF cosine), at most 3 from each;
  * digest: a site's "news in brief" post: 5-7 other stories' headline and first sentence each,
    between the site's fixed intro and sign-off (the same on every digest of that site);
  * short: the corpus pages too short to be stories (`SHORT_MIN_WORDS` to `MIN_WORDS` words) as
    posts on the Blogger sites, whose boilerplate is then a large share of the page;
  * formula: series of formulaic reports written from slot-filled templates modelled on real
    automated and wire formats (the Los Angeles Times' Quakebot earthquake reports, end-of-day
    stock market briefs, the KBS weather brief in the corpus), `FORMULA_EDITIONS` editions each:
    different events that share much of their wording, the classic false merge of text dedup.
  A topic or digest negative is kept only if its word 5-shingle Jaccard similarity to every story
  and every earlier negative stays below `MAX_NEGATIVE_JACCARD`, so that "different story" is
  true by measurement.

Natural hard negatives also exist among the originals: pairs of corpus stories on one subject
(the BVI premier's arrest reported by two Caribbean papers; California's power crisis; the 2020
Democratic primary; gardening guides; Python performance) stay separate stories.
"""

from __future__ import annotations

import datetime
import html
import json
import math
import random
import re
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Literal
from urllib.parse import urlsplit

from pipelines.extraction import extract_article

__all__ = ["SITES", "Item", "Story", "generate", "load_stories"]

Role = Literal["original", "repost", "negative"]

MIN_WORDS = 150
MIN_REPOSTS = 300
REPOST_COUNTS = (1, 1, 2, 2, 2, 3, 3, 4, 6)  # reposts per story, drawn uniformly
MAX_TRIM_SHARE = 0.3
MAX_QUOTE_SHARE = 0.25
TOPIC_NEGATIVES = 75
DIGEST_NEGATIVES = 40
MAX_NEGATIVE_JACCARD = 0.2
SHORT_MIN_WORDS = 40
FORMULA_EDITIONS = 5  # editions per formulaic series
SHINGLE = 5


@dataclass(frozen=True)
class Item:
    """One page of the labelled set; `story` is the true story id, `notes` how it was made."""

    id: str
    story: str
    role: Role
    site: str
    url: str
    html: str
    notes: str = ""


@dataclass(frozen=True)
class Story:
    """A corpus story: its page and its extracted text in paragraphs."""

    key: str
    url: str
    site: str
    title: str
    paragraphs: tuple[str, ...]
    html: str
    language: str

    @property
    def words(self) -> int:
        return sum(len(p.split()) for p in self.paragraphs)


@dataclass(frozen=True)
class Site:
    """A fictional site that reposts stories, with its fixed boilerplate."""

    name: str
    host: str
    template: str
    author: str
    tagline: str
    about: str
    digest_intro: str = "Here is what we are reading today."
    digest_outro: str = "That's all for today. See you tomorrow."


_STORY_CACHE: dict[tuple[str, str], Story | None] = {}


# ---------------------------------------------------------------------------------------------
# Public API


def generate(corpus: Path, seed: int = 0) -> list[Item]:
    """The labelled set: originals, then reposts, then negatives (deterministic for `seed`)."""
    rng = random.Random(seed)
    stories = load_stories(corpus)
    if not stories:
        raise ValueError(f"no usable pages under {corpus}")
    items = [
        Item(f"orig-{s.key}", f"story-{s.key}", "original", s.site, s.url, s.html, "original")
        for s in stories
    ]
    urls = {item.url for item in items}
    items += list(_reposts(stories, rng, urls))
    items += list(_negatives(stories, rng, urls))
    short = load_stories(corpus, SHORT_MIN_WORDS, MIN_WORDS - 1)
    items += list(_short_negatives(short, stories, rng, urls))
    items += list(_formula_negatives(stories, rng, urls))
    return items


def load_stories(
    corpus: Path, min_words: int = MIN_WORDS, max_words: int | None = None
) -> list[Story]:
    """Every corpus page whose article has min_words words or more (and at most max_words),
    in manifest order; extractions are cached for the process."""
    manifest = json.loads((corpus / "manifest.json").read_text(encoding="utf-8"))
    stories = []
    for page in manifest:
        cache_key = (str(corpus.resolve()), page["file"])
        if cache_key not in _STORY_CACHE:
            _STORY_CACHE[cache_key] = _load_story(corpus, page)
        story = _STORY_CACHE[cache_key]
        if story is not None and min_words <= story.words <= (max_words or story.words):
            stories.append(story)
    return stories


def _load_story(corpus: Path, page: dict) -> Story | None:
    raw = (corpus / "pages" / page["file"]).read_bytes()
    page_html = raw.decode("utf-8", errors="replace")
    url = page["url"]
    site = (urlsplit(url).hostname or "").removeprefix("www.")
    if not url.startswith(("http://", "https://")):
        # "hard::" entries carry no URL; the file name starts with the site.
        match = re.match(r"(.*?\.(?:com|org|net|vc|jm))(?=[.-])", page["file"])
        site = match.group(1) if match else Path(page["file"]).stem
        url = f"https://{site}/{Path(page['file']).stem}"
    doc = extract_article(page_html, url)
    if doc is None:
        return None
    paragraphs = tuple(p.strip() for p in doc["text"].split("\n") if p.strip())
    title = (doc.get("title") or paragraphs[0][:80]).strip()
    key = re.sub(r"[^a-z0-9]+", "-", Path(page["file"]).stem.lower()).strip("-")
    return Story(key, url, site, title, paragraphs, page_html, doc.get("language") or "")


# ---------------------------------------------------------------------------------------------
# Sites and templates


SITES: tuple[Site, ...] = (
    Site("Watching the World Turn", "worldturnwatch.blogspot.com", "blogger", "Mike Halloran",
         "News the big outlets would rather you skipped. Reposted with credit.",
         "Retired schoolteacher, amateur historian, grandfather of five. I post what I read.",
         "Here are the stories that caught my eye this week.",
         "Thanks for reading, and see you next week."),
    Site("The Frontier Ledger", "frontierledger.blogspot.com", "blogger", "Dale Whitcombe",
         "Independent commentary from the high plains since 2009.",
         "Rancher, veteran and stubborn reader of the news. Opinions are mine.",
         "A quick roundup of the news from near and far.",
         "That's the ledger for today. Keep your powder dry."),
    Site("Notes From Kilburn", "kilburnnotes.blogspot.com", "blogger", "Aoife Brennan",
         "A London reader's scrapbook of world news.",
         "Nurse, mother, night-shift reader. I collect stories worth a second look.",
         "Some things worth reading from the past few days.",
         "More next time. Do leave a comment if you spot something I missed."),
    Site("Daily Dispatch Reposts", "dispatchreposts.blogspot.com", "blogger", "Admin",
         "Wire stories, every day, in one place.",
         "This blog collects wire stories for readers who want them all in one place.",
         "Today's dispatch in brief.",
         "Follow the blog for more daily dispatches."),
    Site("Hillside Herald", "hillsideherald.wordpress.com", "wordpress", "Grace Okafor",
         "A community newsletter that grew into a blog",
         "The Hillside Herald is written by volunteers of the Hillside neighbourhood association.",
         "Good morning, neighbours. Here is the news in brief.",
         "Have a news tip? Write to the editors using the contact form."),
    Site("The Open Notebook", "opennotebook.blog", "wordpress", "Samuel Ortega",
         "Reading, thinking, sharing",
         "Samuel is a freelance translator who blogs about the news he reads in three languages.",
         "Things I read this week, in no particular order.",
         "That's it from the notebook. Until next time."),
    Site("Crossroads Commentary", "crossroadscommentary.com", "wordpress", "Editorial Team",
         "Politics, culture and everything in between",
         "Crossroads Commentary is an independent, reader-funded site for news and opinion.",
         "Our editors' picks from around the web.",
         "Support independent commentary: become a member today."),
    Site("Marginal Notes", "marginalnotes.net", "wordpress", "Priya Raman",
         "Notes in the margins of the news",
         "Priya Raman writes about science, health and the stories behind the headlines.",
         "Marginalia: a few links with notes.",
         "Comments are open. Be kind."),
    Site("NewsHub 24", "newshub24.net", "aggregator", "NewsHub Staff",
         "Top stories from trusted publishers, updated around the clock",
         "NewsHub 24 gathers headlines from publishers around the world.",
         "Your briefing: the stories you need to know.",
         "Get this briefing in your inbox every morning."),
    Site("GlobalWire Digest", "globalwiredigest.com", "aggregator", "Digest Desk",
         "The world's wires, one page",
         "GlobalWire Digest republishes agency and partner content under licence.",
         "The Digest Desk's pick of the day's wires.",
         "The Digest is updated every hour."),
    Site("Headline Harbor", "headlineharbor.com", "aggregator", "Harbor Newsroom",
         "Where the headlines come in",
         "Headline Harbor is an automated news aggregator with a small human editorial team.",
         "Headlines at a glance.",
         "Read more headlines on our home page."),
    Site("The Morning Feed", "morningfeed.news", "aggregator", "Morning Feed Team",
         "News, trimmed and served",
         "The Morning Feed selects the day's top stories from publishers we trust.",
         "The morning feed: everything you need before your coffee.",
         "Enjoyed this? Forward it to a friend."),
    Site("rgarcia.me", "rgarcia.me", "minimal", "Rosa Garcia",
         "Rosa Garcia's notebook",
         "Rosa Garcia is a software engineer in Porto. This is where she keeps things she reads.",
         "Link dump. Some things I read recently.",
         "As always, reply by email if you want to chat about any of these."),
    Site("notes.hkaur.dev", "notes.hkaur.dev", "minimal", "Harleen Kaur",
         "Notes, mostly to myself",
         "Harleen Kaur works on data pipelines and writes about the news on the side.",
         "Reading list for the week.",
         "End of list."),
    Site("lena writes", "lenawrites.net", "minimal", "Lena Fischer",
         "Short posts, long reads",
         "Lena Fischer is a journalism student in Leipzig. All views her own.",
         "A few things that stayed with me.",
         "Until the next list."),
    Site("jbrennan.org", "jbrennan.org", "minimal", "James Brennan",
         "Weblog of James Brennan",
         "James Brennan teaches history at a community college in Ohio.",
         "Assorted links.",
         "Back soon with more."),
    Site("The Long Read Letter", "longreadletter.substack.com", "substack", "Nadia Petrova",
         "Long reads, short notes",
         "A weekly letter about the stories that deserve more than a headline.",
         "This week's letter: the best of the wires, briefly.",
         "If someone forwarded you this letter, subscribe so you never miss one."),
    Site("Signal & Noise", "signalnoise.substack.com", "substack", "Tom Achterberg",
         "Separating the signal from the noise",
         "Signal & Noise is a reader-supported publication about news and media.",
         "Signals of the week.",
         "Signal & Noise is reader-supported. Consider a paid subscription."),
    Site("Field Notes Weekly", "fieldnotesweekly.substack.com", "substack", "Keiko Mori",
         "Notes from the field, every Friday",
         "Field Notes Weekly is written by a former foreign correspondent.",
         "Field notes: short items from the week.",
         "Thanks for reading Field Notes Weekly."),
    Site("The Overlook", "theoverlook.substack.com", "substack", "Marcus Bell",
         "What the headlines overlook",
         "The Overlook is a newsletter about stories that slip through the cracks.",
         "Overlooked this week.",
         "Share The Overlook with someone who would like it."),
    Site("worldnewsreblogs", "worldnewsreblogs.tumblr.com", "tumblr", "worldnewsreblogs",
         "reblogging the world one story at a time",
         "news junkie. reblogs are not endorsements. ask box open.",
         "news dump incoming",
         "ok that's it for now"),
    Site("this is not a news blog", "thisisnotanewsblog.tumblr.com", "tumblr", "notanewsblog",
         "(it is a news blog)",
         "she/her. 27. posting the news so you don't have to look for it.",
         "things that happened today, a list",
         "/end list"),
    Site("curious cabinet", "curiouscabinet.tumblr.com", "tumblr", "curiouscabinet",
         "oddities, articles and things i can't stop thinking about",
         "a cabinet of curiosities. mostly articles. sometimes cats.",
         "cabinet roundup",
         "more curiosities tomorrow"),
    Site("from the wires", "fromthewires.tumblr.com", "tumblr", "fromthewires",
         "wire stories, unedited",
         "reposting wire copy since 2014.",
         "wires of the day",
         "that's the wires"),
)  # fmt: skip

_MENU = ("Home", "World", "Politics", "Business", "Science", "Culture", "About", "Contact")
_SECTIONS = ("World", "Politics", "Business", "Tech", "Science", "Health", "Culture", "Sport")

_BLOGGER = Template("""<!DOCTYPE html>
<html class='v2' dir='ltr' lang='en'>
<head>
<meta content='text/html; charset=UTF-8' http-equiv='Content-Type'/>
<meta content='blogger' name='generator'/>
<link href='$url' rel='canonical'/>
<link rel="alternate" type="application/atom+xml" title="$site_name - Atom"
href="https://$host/feeds/posts/default" />
<title>$site_name: $title</title>
<meta content='$title' property='og:title'/>
<style type='text/css'>body{font:normal normal 13px Arial,sans-serif;color:#222;background:#eee}
.post-title{font-size:22px}.sidebar h2{text-transform:uppercase}</style>
</head>
<body class='loading'>
<div class='navbar section' id='navbar' name='Navbar'><div class='widget Navbar' id='Navbar1'>
<iframe src='https://www.blogger.com/navbar.g?targetBlogID=$blog_id' height='30px' width='100%'>
</iframe></div></div>
<div class='content-outer'>
<header><div class='header section' id='header'><div class='widget Header' id='Header1'>
<div id='header-inner'><div class='titlewrapper'><h1 class='title'>
<a href='https://$host/'>$site_name</a></h1></div>
<div class='descriptionwrapper'><p class='description'><span>$tagline</span></p></div></div></div>
</div></header>
<div class='tabs-outer'><div class='tabs section' id='crosscol'>
<div class='widget PageList' id='PageList1'>
<ul><li class='selected'><a href='https://$host/'>Home</a></li><li>
<a href='https://$host/p/about.html'>About</a></li>
<li><a href='https://$host/p/contact.html'>Contact</a></li><li>
<a href='https://$host/p/disclaimer.html'>Disclaimer</a></li></ul></div></div></div>
<div class='main-outer'><div class='columns fauxcolumns'>
<div class='column-center-outer'><div class='main section' id='main'>
<div class='widget Blog' id='Blog1'>
<div class='blog-posts hfeed'>
<div class="date-outer"><h2 class='date-header'><span>$date_long</span></h2>
<div class="date-posts"><div class='post-outer'>
<div class='post hentry uncustomized-post-template' itemprop='blogPost' itemscope='itemscope'
itemtype='http://schema.org/BlogPosting'>
<a name='$post_id'></a>
<h3 class='post-title entry-title' itemprop='name'>$title</h3>
<div class='post-header'><div class='post-header-line-1'></div></div>
<div class='post-body entry-content' id='post-body-$post_id' itemprop='description articleBody'>
$body
<div style='clear: both;'></div>
</div>
<div class='post-footer'><div class='post-footer-line post-footer-line-1'>
<span class='post-author vcard'>Posted by <span class='fn' itemprop='author' itemscope='itemscope'
itemtype='http://schema.org/Person'><span itemprop='name'>$author</span></span></span>
<span class='post-timestamp'>at <a class='timestamp-link' href='$url' rel='bookmark'
title='permanent link'><abbr class='published' itemprop='datePublished'
title='$date_iso'>$time</abbr></a></span>
<span class='post-comment-link'></span>
<div class='post-share-buttons goog-inline-block'>
<a class='goog-inline-block share-button sb-email'
href='https://www.blogger.com/share-post.g?blogID=$blog_id&amp;postID=$post_id&amp;target=email'
target='_blank' title='Email This'><span class='share-button-link-text'>Email This</span></a>
<a class='goog-inline-block share-button sb-blog'
href='https://www.blogger.com/share-post.g?blogID=$blog_id&amp;postID=$post_id&amp;target=blog'
target='_blank' title='BlogThis!'><span class='share-button-link-text'>BlogThis!</span></a>
<a class='goog-inline-block share-button sb-twitter'
href='https://www.blogger.com/share-post.g?blogID=$blog_id&amp;postID=$post_id&amp;target=twitter'
target='_blank' title='Share to X'><span class='share-button-link-text'>Share to X</span></a>
<a class='goog-inline-block share-button sb-facebook'
href='https://www.blogger.com/share-post.g?blogID=$blog_id&amp;postID=$post_id&amp;target=facebook'
 target='_blank' title='Share to Facebook'>
<span class='share-button-link-text'>Share to Facebook</span></a>
<a class='goog-inline-block share-button sb-pinterest'
 href='https://www.blogger.com/share-post.g?blogID=$blog_id&amp;postID=$post_id&amp;target=pinterest'
 target='_blank' title='Share to Pinterest'>
<span class='share-button-link-text'>Share to Pinterest</span></a>
</div></div>
<div class='post-footer-line post-footer-line-2'><span class='post-labels'>Labels: $labels</span>
</div>
<div class='post-footer-line post-footer-line-3'><span class='post-location'></span></div></div>
</div>
<div class='comments' id='comments'><a name='comments'></a><h4>$comment_heading</h4>
<div class='comments-content'><div class='comment-thread'><ol>$comments</ol></div></div>
<p class='comment-footer'><a
href='https://www.blogger.com/comment.g?blogID=$blog_id&amp;postID=$post_id' onclick=''>Post a
Comment</a></p>
</div></div></div></div></div>
<div class='blog-pager' id='blog-pager'><span id='blog-pager-newer-link'>
<a class='blog-pager-newer-link' href='https://$host/' id='Blog1_blog-pager-newer-link'
title='Newer Post'>Newer Post</a></span>
<span id='blog-pager-older-link'>
<a class='blog-pager-older-link' href='https://$host/' id='Blog1_blog-pager-older-link'
title='Older Post'>Older Post</a></span>
<a class='home-link' href='https://$host/'>Home</a></div><div class='clear'></div>
<div class='post-feeds'><div class='feed-links'>Subscribe to:
<a class='feed-link' href='https://$host/feeds/$post_id/comments/default' target='_blank'
type='application/atom+xml'>Post Comments (Atom)</a></div></div>
</div></div></div>
<div class='column-right-outer'><aside><div class='sidebar section' id='sidebar-right-1'>
<div class='widget PopularPosts' id='PopularPosts1'><h2>Popular Posts</h2>
<div class='widget-content popular-posts'><ul>$related</ul></div></div>
<div class='widget Profile' id='Profile1'><h2>About Me</h2><div class='widget-content'>
<dl class='profile-datablock'><dt class='profile-data'>
<a class='profile-name-link g-profile' href='https://www.blogger.com/profile/$blog_id'
rel='author'>$author</a></dt>
<dd class='profile-textblock'>$about</dd></dl>
<a class='profile-link' href='https://www.blogger.com/profile/$blog_id' rel='author'>View my
complete profile</a></div></div>
<div class='widget BlogArchive' id='BlogArchive1'><h2>Blog Archive</h2>
<div class='widget-content'><div id='ArchiveList'><ul class='hierarchy'>$archive</ul></div></div>
</div>
<div class='widget LinkList' id='LinkList1'><h2>Blogroll</h2><div class='widget-content'>
<ul>$blogroll</ul></div></div>
<div class='widget Followers' id='Followers1'><h2 class='title'>Followers</h2>
<div class='widget-content'>$followers followers</div></div>
</div></aside></div>
</div></div>
<footer><div class='footer section' id='footer-1'>
<div class='widget Attribution' id='Attribution1'>
<div class='widget-content' style='text-align: center;'>
Simple theme. Powered by <a href='https://www.blogger.com' target='_blank'>Blogger</a>.</div>
</div></div></footer>
</div>
</body>
</html>
""")

_WORDPRESS = Template("""<!doctype html>
<html lang="en-US">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>$title &#8211; $site_name</title>
<meta name='robots' content='max-image-preview:large' />
<link rel="alternate" type="application/rss+xml" title="$site_name &raquo; Feed"
href="https://$host/feed/" />
<link rel='stylesheet' id='twentytwenty-style-css'
href='https://$host/wp-content/themes/twentytwenty/style.css?ver=2.4' media='all' />
<link rel="canonical" href="$url" />
<meta name="generator" content="WordPress 6.4.2" />
<meta property="og:type" content="article" /><meta property="og:title" content="$title" />
<meta property="article:published_time" content="$date_iso" />
</head>
<body class="post-template-default single single-post postid-$post_id single-format-standard
 wp-embed-responsive singular enable-search-modal has-post-thumbnail">
<a class="skip-link screen-reader-text" href="#site-content">Skip to the content</a>
<header id="site-header" class="header-footer-group"><div class="header-inner section-inner">
<div class="header-titles-wrapper"><div class="header-titles">
<div class="site-title faux-heading"><a href="https://$host/">$site_name</a></div>
<div class="site-description">$tagline</div></div></div>
<div class="header-navigation-wrapper"><nav class="primary-menu-wrapper" aria-label="Horizontal">
<ul class="primary-menu reset-list-style">$menu</ul></nav>
<div class="header-toggles hide-no-js"><div class="toggle-wrapper search-toggle-wrapper">
<button class="toggle search-toggle desktop-search-toggle"><span class="toggle-text">Search</span>
</button></div></div>
</div></div></header>
<main id="site-content">
<article class="post-$post_id post type-post status-publish format-standard hentry
 category-$category_slug" id="post-$post_id">
<header class="entry-header has-text-align-center header-footer-group">
<div class="entry-header-inner section-inner medium">
<div class="entry-categories"><span class="screen-reader-text">Categories</span>
<div class="entry-categories-inner">
<a href="https://$host/category/$category_slug/" rel="category tag">$category</a></div></div>
<h1 class="entry-title">$title</h1>
<div class="post-meta-wrapper post-meta-single post-meta-single-top"><ul class="post-meta">
<li class="post-author meta-wrapper">
<span class="meta-text">By <a href="https://$host/author/$author_slug/">$author</a></span></li>
<li class="post-date meta-wrapper"><span class="meta-text"><a href="$url">$date_long</a></span></li>
<li class="post-comment-link meta-wrapper"><span class="meta-text">
<a href="$url#comments">$comment_count_text</a></span></li>
</ul></div></div></header>
<div class="post-inner thin "><div class="entry-content">
$body
<div class="sharedaddy sd-sharing-enabled">
<div class="robots-nocontent sd-block sd-social sd-social-icon-text sd-sharing">
<h3 class="sd-title">Share this:</h3><div class="sd-content"><ul>
<li class="share-twitter"><a rel="nofollow noopener noreferrer"
class="share-twitter sd-button share-icon" href="$url?share=twitter" target="_blank">
<span>X</span></a></li>
<li class="share-facebook"><a rel="nofollow noopener noreferrer"
class="share-facebook sd-button share-icon" href="$url?share=facebook" target="_blank">
<span>Facebook</span></a></li>
<li class="share-email"><a rel="nofollow noopener noreferrer"
class="share-email sd-button share-icon" href="mailto:?subject=$title"><span>Email</span></a></li>
<li class="share-end"></li></ul></div></div></div>
<div class='sharedaddy sd-block sd-like jetpack-likes-widget-wrapper jetpack-likes-widget-unloaded'
 id='like-post-wrapper-$post_id'><h3 class="sd-title">Like this:</h3>
<div class='likes-widget-placeholder post-likes-widget-placeholder' style='height: 55px;'>
<span class='button'><span>Like</span></span> <span class="loading">Loading...</span></div></div>
<div id='jp-relatedposts' class='jp-relatedposts' ><h3 class="jp-relatedposts-headline">
<em>Related</em></h3>
<div class="jp-relatedposts-items jp-relatedposts-items-minimal jp-relatedposts-grid">
$related</div></div>
</div></div>
<div class="section-inner"><div
class="post-meta-wrapper post-meta-single post-meta-single-bottom"><ul class="post-meta">
<li class="post-tags meta-wrapper"><span class="meta-icon">
<span class="screen-reader-text">Tags</span></span><span class="meta-text">$tags</span></li></ul>
</div>
<div class="author-bio"><div class="author-title-wrapper">
<h2 class="author-title heading-size-4">$author</h2></div>
<div class="author-description"><p>$about</p>
<a class="author-link" href="https://$host/author/$author_slug/" rel="author">View Archive <span
aria-hidden="true">&rarr;</span></a></div></div></div>
<nav class="pagination-single section-inner" aria-label="Post">
<hr class="styled-separator is-style-wide" aria-hidden="true" />
<div class="pagination-single-inner">
<a class="previous-post" href="https://$host/">
<span class="arrow" aria-hidden="true">&larr;</span><span class="title">
<span class="title-inner">$prev_title</span></span></a>
<a class="next-post" href="https://$host/"><span class="arrow" aria-hidden="true">&rarr;</span>
<span class="title"><span class="title-inner">$next_title</span></span></a>
</div><hr class="styled-separator is-style-wide" aria-hidden="true" /></nav>
<div class="comments-wrapper section-inner">
<div class="comments" id="comments"><div class="comments-header section-inner small max-percentage">
<h2 class="comment-reply-title">$comment_heading</h2></div>
<div class="comments-inner section-inner thin max-percentage">$comments</div></div>
<hr class="styled-separator is-style-wide" aria-hidden="true" />
<div id="respond" class="comment-respond">
<h2 id="reply-title" class="comment-reply-title">Leave a Reply <small>
<a rel="nofollow" id="cancel-comment-reply-link" href="$url#respond" style="display:none;">Cancel
reply</a></small></h2>
<form action="https://$host/wp-comments-post.php" method="post" id="commentform"
class="section-inner thin max-percentage" novalidate>
<p class="comment-notes"><span id="email-notes">Your email address will not be published.</span>
<span class="required-field-message">Required fields are marked <span class="required">*</span>
</span></p>
<p class="comment-form-comment"><label for="comment">Comment <span class="required">*</span>
</label> <textarea id="comment" name="comment" cols="45" rows="8" maxlength="65525" required>
</textarea></p>
<p class="comment-form-author"><label for="author">Name <span class="required">*</span>
</label> <input id="author" name="author" type="text" value="" size="30" maxlength="245" required
/></p>
<p class="comment-form-email"><label for="email">Email <span class="required">*</span>
</label> <input id="email" name="email" type="email" value="" size="30" maxlength="100" required
/></p>
<p class="comment-form-cookies-consent">
<input id="wp-comment-cookies-consent" name="wp-comment-cookies-consent" type="checkbox"
value="yes" /> <label for="wp-comment-cookies-consent">Save my name, email, and website in this
browser for the next time I comment.</label></p>
<p class="form-submit"><input name="submit" type="submit" id="submit" class="submit"
value="Post Comment" /></p></form></div>
</div>
</article>
<aside class="widget-area" role="complementary">
<div class="widget widget_search">
<form role="search" method="get" class="search-form" action="https://$host/"><label>
<span class="screen-reader-text">Search for:</span>
<input type="search" class="search-field" placeholder="Search &hellip;" name="s" /></label>
<input type="submit" class="search-submit" value="Search" /></form></div>
<div class="widget widget_recent_entries"><h2 class="widget-title">Recent Posts</h2>
<nav aria-label="Recent Posts"><ul>$recent</ul></nav></div>
<div class="widget widget_text"><h2 class="widget-title">About</h2><div class="textwidget">
<p>$about</p></div></div>
<div class="widget widget_archive"><h2 class="widget-title">Archives</h2>
<nav aria-label="Archives"><ul>$archive</ul></nav></div>
<div class="widget widget_categories"><h2 class="widget-title">Categories</h2>
<nav aria-label="Categories"><ul>$categories</ul></nav></div>
<div class="widget widget_meta"><h2 class="widget-title">Meta</h2><nav aria-label="Meta"><ul><li>
<a href="https://$host/wp-login.php">Log in</a></li><li>
<a href="https://$host/feed/">Entries feed</a></li><li>
<a href="https://$host/comments/feed/">Comments feed</a></li><li>
<a href="https://wordpress.org/">WordPress.org</a></li></ul></nav></div>
</aside>
</main>
<footer id="site-footer" class="header-footer-group"><div class="section-inner">
<div class="footer-credits">
<p class="footer-copyright">&copy; $year <a href="https://$host/">$site_name</a></p>
<p class="powered-by-wordpress"><a href="https://wordpress.org/">Powered by WordPress</a></p></div>
<a class="to-the-top" href="#site-header">
<span class="to-the-top-long">To the top <span class="arrow" aria-hidden="true">&uarr;</span>
</span></a></div></footer>
</body>
</html>
""")

_AGGREGATOR = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title | $site_name</title>
<meta name="description" content="$lead">
<meta property="og:type" content="article"><meta property="og:site_name" content="$site_name">
<meta property="og:title" content="$title">
<link rel="canonical" href="$url">
<script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle","headline":$title_json,"datePublished":"$date_iso","publisher":{"@type":"Organization","name":$site_json}}</script>
<script async src="https://securepubads.example-ads.com/tag/js/gpt.js"></script>
</head>
<body class="article-page">
<div id="cookie-banner" class="cookie-consent" role="dialog">
<p>We and our partners use cookies to personalise content and ads, to provide social media
features and to analyse our traffic. You can change your choice at any time in Privacy settings.
<a href="https://$host/privacy">Learn more</a></p><button class="accept">Accept all</button>
<button class="manage">Manage preferences</button></div>
<div class="top-bar"><span class="today">$date_long</span> <a href="https://$host/login">Sign
in</a> <a href="https://$host/subscribe" class="btn">Subscribe</a></div>
<header class="masthead"><a class="logo" href="https://$host/">$site_name</a>
<span class="strap">$tagline</span>
<nav class="sections"><ul>$menu</ul></nav></header>
<div class="ticker" aria-label="Latest"><strong>Latest:</strong><ul>$ticker</ul></div>
<div class="layout"><main class="content">
<nav class="breadcrumbs"><a href="https://$host/">Home</a> &rsaquo; <a
href="https://$host/$section_slug/">$section</a></nav>
<article class="story" itemscope itemtype="https://schema.org/NewsArticle">
<h1 class="story-headline" itemprop="headline">$title</h1>
<div class="story-meta"><span class="source">$source_line</span> &middot; <time
datetime="$date_iso">$date_long, $time</time> &middot; <span class="read-time">$read_minutes min
read</span></div>
<div class="share-bar"><a class="share fb" href="#">Share</a><a class="share tw" href="#">Post</a>
<a class="share wa" href="#">WhatsApp</a><a class="share mail" href="#">Email</a>
<a class="share copy" href="#">Copy link</a></div>
<div class="story-body" itemprop="articleBody">
$body
</div>
<div class="story-tags">Topics: $tags</div>
<p class="disclaimer">$site_name aggregates headlines from publishers around the world. This story
was selected automatically and has not been edited by $site_name staff.</p>
</article>
<div class="ad-slot" data-slot="in-article">Advertisement</div>
<section class="more-from"><h2>More in $section</h2><ul class="card-list">$related</ul></section>
<section class="discussion" id="comments"><h2>Discussion ($comment_count)</h2>
<div class="comment-list">$comments</div>
<p class="community-note">Comments are moderated. Please read our community guidelines before
posting.</p></section>
</main>
<aside class="rail"><section class="most-read"><h2>Most read</h2><ol>$recent</ol></section>
<section class="newsletter"><h3>Get the morning briefing</h3>
<p>The day's top stories, delivered to your inbox before 7am.</p><form>
<input type="email" placeholder="Your email address"><button>Sign up</button></form></section>
<div class="ad-slot" data-slot="rail-1">Advertisement</div></aside>
</div>
<footer class="site-footer"><p>$about</p><ul><li><a href="https://$host/about">About us</a></li>
<li><a href="https://$host/contact">Contact</a></li><li>
<a href="https://$host/privacy">Privacy policy</a></li><li>
<a href="https://$host/terms">Terms of use</a></li><li>
<a href="https://$host/sitemap.xml">Sitemap</a></li></ul>
<p>&copy; $year $site_name. All rights reserved.</p></footer>
</body>
</html>
""")

_MINIMAL = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title &mdash; $site_name</title>
<link rel="alternate" type="application/rss+xml" href="https://$host/index.xml" title="$site_name">
<link rel="canonical" href="$url">
<meta name="generator" content="Hugo 0.121.1">
<style>body{max-width:42rem;margin:2rem auto;font-family:Georgia,serif;line-height:1.6}</style>
</head>
<body>
<header><a href="https://$host/" class="home">$site_name</a>
<nav><a href="https://$host/posts/">Posts</a> <a href="https://$host/about/">About</a> <a
href="https://$host/now/">Now</a> <a href="https://$host/index.xml">RSS</a></nav></header>
<main>
<article class="h-entry">
<h1 class="p-name">$title</h1>
<p class="meta"><time class="dt-published" datetime="$date_iso">$date_short</time> &middot;
$read_minutes min read</p>
<div class="e-content">
$body
</div>
<p class="tags">Filed under: $tags</p>
</article>
<section class="webmentions" id="comments"><h2>Responses</h2>$comments</section>
<nav class="post-nav"><a href="https://$host/posts/" rel="prev">&larr; $prev_title</a> <a
href="https://$host/posts/" rel="next">$next_title &rarr;</a></nav>
<section class="see-also"><h2>See also</h2><ul>$related</ul></section>
</main>
<footer><p>&copy; $year $author &middot; <a href="https://$host/about/">About</a> &middot; <a
rel="me" href="https://mastodon.social/@$author_slug">Mastodon</a> &middot; Built with Hugo</p>
<p>$about</p></footer>
</body>
</html>
""")

_SUBSTACK = Template("""<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>$title - by $author - $site_name</title>
<meta property="og:title" content="$title"><meta property="og:type" content="article">
<meta name="author" content="$author"><link rel="canonical" href="$url">
<meta property="og:description" content="$lead">
</head>
<body>
<div id="entry"><div id="main" class="main typography use-theme-bg">
<div class="main-menu"><div class="topbar-content">
<a class="navbar-title-link" href="https://$host/">$site_name</a>
<div class="navbar-buttons"><button class="button primary subscribe-btn">Subscribe</button>
<a class="button sign-in-link" href="https://$host/account/login">Sign in</a></div></div></div>
<div class="container"><div class="single-post-container"><div class="single-post">
<article class="typography newsletter-post post">
<div class="post-header"><h1 class="post-title published">$title</h1>
<h3 class="subtitle">$tagline</h3>
<div class="post-meta"><div class="profile-hover-card-target">
<a class="pencraft" href="https://$host/about">$author</a></div>
<div class="post-date" title="$date_iso">$date_short</div></div>
<div class="post-ufi"><a class="like-button-container"><div class="label">$likes</div></a>
<a class="post-ufi-comment-button" href="$url/comments"><div class="label">$comment_count</div>
</a><a class="post-ufi-button share">Share</a></div></div>
<div class="available-content"><div class="body markup" dir="auto">
$body
</div></div>
<div class="subscription-widget-wrap"><div class="subscription-widget show-subscribe">
<div class="preamble"><p>$about</p></div>
<form class="form"><input type="email" name="email" placeholder="Type your email&#8230;">
<button class="button primary">Subscribe</button></form></div></div>
<div class="post-footer"><a class="like-button">$likes likes</a> &middot; <a
class="restack">Restack</a> &middot; <a class="share">Share</a></div>
</article>
<div class="comments-page" id="discussion"><h4>Discussion about this post</h4>
<div class="comment-list">$comments</div></div>
<div class="post-end-cta"><h4>Ready for more?</h4><form>
<input type="email" placeholder="Type your email&#8230;"><button>Subscribe</button></form></div>
<div class="more-posts"><h3>Recent posts</h3><div class="portable-archive-list">$related</div></div>
</div></div></div>
<div class="footer-wrap"><div class="footer"><div class="footer-text">&copy; $year $author</div>
<div class="footer-buttons"><a href="https://substack.com/privacy">Privacy</a> &#8729; <a
href="https://substack.com/tos">Terms</a> &#8729; <a
href="https://substack.com/ccpa#personal-data-collected">Collection notice</a></div>
<div class="footer-substack"><a href="https://substack.com/signup">Start Writing</a> <a
href="https://substack.com/app">Get the app</a></div>
<p class="footer-slogan">Substack is the home for great culture</p></div></div>
</div></div>
</body>
</html>
""")

_TUMBLR = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>$site_name &mdash; $title</title>
<meta name="description" content="$lead">
<link rel="canonical" href="$url">
<meta property="og:site_name" content="Tumblr">
<link rel="alternate" type="application/rss+xml" href="https://$host/rss">
</head>
<body>
<div id="tumblr_controls"><a href="https://www.tumblr.com/follow/$author">Follow</a> <a
href="https://www.tumblr.com/register">Sign up</a></div>
<div class="wrapper">
<header id="header"><h1><a href="https://$host/">$site_name</a></h1>
<p class="description">$tagline</p>
<nav><a href="https://$host/">home</a> <a href="https://$host/ask">ask</a> <a
href="https://$host/submit">submit</a> <a href="https://$host/archive">archive</a></nav></header>
<div id="posts">
<article class="post text" id="post-$post_id">
<h2 class="title"><a href="$url">$title</a></h2>
<div class="reblog-header"><a class="reblog-name" href="https://$host/">$author</a> reblogged from
<a class="reblog-source" href="$source_url">$source_name</a></div>
<div class="body">
<blockquote class="reblog-content">
$body
</blockquote>
</div>
<div class="tags">$tags</div>
<div class="post-meta"><a href="$url" class="date">$date_short</a> &middot; <a href="$url#notes"
class="notecount">$notes_count notes</a> &middot; <a class="reblog"
href="https://www.tumblr.com/reblog/$post_id">reblog</a></div>
<div class="notes" id="notes"><ol class="notes">$comments</ol></div>
</article>
<section class="related-posts"><h3>you might also like</h3><ul>$related</ul></section>
</div>
<aside id="sidebar"><div class="avatar">
<img src="https://64.media.tumblr.com/avatar_$post_id.png" alt="avatar"></div>
<p class="about">$about</p>
<h3>recent</h3><ul>$recent</ul><h3>following</h3><ul>$blogroll</ul></aside>
<footer id="footer"><a href="https://$host/page/2">older posts &rarr;</a> <p>theme by <a
href="https://www.tumblr.com/theme/37788">peachy</a> &middot; powered by <a
href="https://www.tumblr.com/">tumblr</a></p></footer>
</div>
</body>
</html>
""")

TEMPLATES: dict[str, Template] = {
    "blogger": _BLOGGER,
    "wordpress": _WORDPRESS,
    "aggregator": _AGGREGATOR,
    "minimal": _MINIMAL,
    "substack": _SUBSTACK,
    "tumblr": _TUMBLR,
}

# ---------------------------------------------------------------------------------------------
# Text pools

_WIRES = ("Reuters", "AFP", "AP", "Sputnik", "TASS", "Xinhua", "Bloomberg", "dpa", "UPI")

_INTROS = (
    "Via {wire}:",
    "Interesting piece from {src}:",
    "Editor's note: this article was originally published by {src} and is republished here "
    "with permission.",
    "H/T to a reader who sent this in.",
    "From {src}, worth reading in full:",
    "Reposting this in full because it deserves a wider audience.",
    "Editor's note: we are sharing this story as part of our news partnership with {src}.",
    "Found this on {src} this morning.",
    "Another one for the file. Via {src}.",
    "UPDATE: see our earlier coverage below. Via {wire}:",
)

_CREDITS_TOP = ("{wire}", "By {wire}", "Source: {wire}", "Via {src}", "By {src} staff")
_CREDITS_BOTTOM = (
    "Source: {wire}",
    "Source: {src}",
    "Originally published at {url}",
    "This article first appeared on {src}.",
    "(c) {src}. Reproduced with permission.",
    "Credit: {wire}",
    "Read the original at {src}.",
)

_COMMENTARY = (
    "I have been following the {kw} story for a while, and this is the clearest account I have "
    "read so far.",
    "What strikes me here is how little attention {kw} gets in the mainstream coverage.",
    "Make of it what you will, but I suspect we will be hearing a lot more about this.",
    "Readers of this blog will remember that we covered something similar last spring.",
    "As always, the comments are open below; please keep it civil.",
    "The key line for me is near the end, and it deserves more attention than it is getting.",
    "My take: {kw} is not going away, whatever the officials say.",
    "I would love to hear from anyone with first-hand experience of this.",
    "Two things stand out to me, and neither of them is in the headline.",
    "Some of you will disagree with the framing, and that is fine.",
    "It is worth comparing this with how the same story was told a year ago.",
    "We will keep an eye on {kw} and post updates as they come in.",
    "Personally, I think the most important detail is buried in the middle of the piece.",
    "This is exactly the kind of reporting we need more of.",
    "I am not sure the numbers add up, but judge for yourself.",
    "If you only read one thing about {kw} this week, make it this.",
    "There is a lesson here for all of us, I think.",
    "Share this with anyone who still thinks {kw} is a minor issue.",
    "Thanks to everyone who wrote in about our last post on this subject.",
    "For context, see the links in the sidebar.",
)

_COMMENTS = (
    "Great post, thanks for sharing.",
    "This is exactly what I was saying last week.",
    "Does anyone have a link to the original report?",
    "Not surprised at all, to be honest.",
    "Thanks for putting this up. The big outlets ignored it completely.",
    "I disagree with the conclusion, but the facts are interesting.",
    "Wow. Just wow.",
    "Shared on my timeline, people need to see this.",
    "Why is nobody talking about this?",
    "Very informative, keep up the good work!",
    "I read this elsewhere yesterday, glad you reposted it.",
    "The comments here are always better than the article, lol.",
    "Can you do a follow-up on this?",
    "Interesting, but I would like to see more sources.",
    "My brother works in this field and he says the same thing.",
    "Bookmarked. Thank you.",
    "Typo in the third paragraph, fyi.",
    "This aged well.",
    "Who wrote the original piece?",
    "Finally someone is reporting on this.",
)

_NAMES = (
    "Anonymous", "Jeff R.", "Maria", "Old Salt", "Kevin from Leeds", "Ines", "PatrioticGran",
    "Dr. Lopez", "sarah_k", "Tom Becker", "Nnamdi", "Lucy W", "kathy", "Marco Bianchi",
    "The Real Bob", "Yusuf", "Eleanor Price", "Chen Wei", "birdwatcher71", "Olga",
)  # fmt: skip

_SYNONYMS = {
    "said": "stated", "says": "states", "big": "large", "large": "big", "help": "assist",
    "start": "begin", "began": "started", "show": "reveal", "shows": "reveals", "buy": "purchase",
    "use": "utilise", "used": "utilised", "about": "around", "many": "numerous", "but": "however",
    "also": "additionally", "very": "highly", "important": "significant", "people": "persons",
    "told": "informed", "get": "obtain", "need": "require", "try": "attempt", "end": "finish",
    "fast": "quick", "quickly": "rapidly", "small": "little", "often": "frequently",
    "center": "centre", "color": "colour", "organization": "organisation", "program": "programme",
}  # fmt: skip
_FILLERS = ("also", "really", "now", "reportedly", "just", "still", "even", "actually")

_STOP = frozenset((
    "a", "an", "and", "the", "of", "to", "in", "on", "for", "with", "at", "by", "from", "as",
    "is", "are", "was", "were", "be", "been", "this", "that", "these", "those", "it", "its",
    "it's", "how", "what", "why", "when", "who", "which", "your", "you", "we", "our", "their",
    "his", "her", "they", "them", "not", "no", "yes", "or", "if", "into", "over", "after",
    "before", "about", "than", "then", "will", "can", "could", "would", "should", "has", "have",
    "had", "do", "does", "did", "new", "more", "most", "all", "any", "some", "one", "two", "up",
    "out", "so", "just", "my", "me", "i", "s", "vs",
))  # fmt: skip

_TOPIC_TITLES = (
    "{Kw}: what we know so far",
    "Analysis: {kw} and what comes next",
    "Readers respond to {kw}",
    "Why {kw} matters more than you think",
    "The other side of {kw}",
    "{Kw}, explained",
    "Opinion: the trouble with {kw}",
    "Five questions about {kw}",
)
_TOPIC_LEADS = (
    "The debate over {kw} took another turn this week, and the reactions have been swift.",
    "When {src} reported on {kw}, few expected the story to travel as far as it has.",
    "There is more to {kw} than the headlines suggest, and the details deserve a closer look.",
    "For weeks {kw} has been a talking point; here is an attempt to put it in context.",
    "Our readers have asked us to look again at {kw}, and so we did.",
)
_TOPIC_BRIDGES = (
    "That is only part of the picture of {kw}.",
    "Experts we spoke to were divided on what {kw} means in practice.",
    "Similar cases elsewhere offer some clues.",
    "Not everyone agrees with that reading of {kw}.",
    "The wider context matters here.",
    "Critics say the coverage of {kw} has missed the point.",
)
_QUOTE_FORMS = (
    'As {src} reported: "{para}"',
    '"{para}" {src} wrote.',
    'In the words of the original report by {src}: "{para}"',
)


# ---------------------------------------------------------------------------------------------
# Reposts


def _reposts(stories: list[Story], rng: random.Random, urls: set[str]) -> Iterator[Item]:
    counts = [rng.choice(REPOST_COUNTS) for _ in stories]
    while sum(counts) < MIN_REPOSTS:
        counts[rng.randrange(len(counts))] += 1
    for story, count in zip(stories, counts, strict=True):
        for n, site in enumerate(rng.sample(SITES, min(count, len(SITES)))):
            paragraphs, notes = _vary(story, rng)
            title = _vary_title(story.title, rng)
            page, url = _render(site, title, paragraphs, story, stories, rng, urls, notes)
            yield Item(
                f"rep-{story.key}-{n}", f"story-{story.key}", "repost", site.host, url, page,
                ";".join([site.template, *notes]),
            )  # fmt: skip


def _vary(story: Story, rng: random.Random) -> tuple[list[str], list[str]]:
    """The story's paragraphs as one reposter re-publishes them, and what was changed."""
    paragraphs = list(story.paragraphs)
    notes: list[str] = []
    total = story.words
    if len(paragraphs) >= 4 and rng.random() < 0.35:
        drop = rng.randint(1, 3)
        while drop and sum(len(p.split()) for p in paragraphs[-drop:]) > MAX_TRIM_SHARE * total:
            drop -= 1
        if drop:
            paragraphs = paragraphs[:-drop]
            notes.append(f"trim{drop}")
    rate = rng.uniform(0.01, 0.03)
    paragraphs = _edit_words(paragraphs, rate, rng)
    notes.append(f"edits{rate * 100:.1f}%")
    kw = _key_phrase(story.title)
    wire, src = rng.choice(_WIRES), story.site
    if rng.random() < 0.3:
        added = [_commentary(kw, rng) for _ in range(rng.choice((1, 1, 2)))]
        if rng.random() < 0.7:
            paragraphs += added
        else:
            paragraphs = added + paragraphs
        notes.append(f"add{len(added)}")
    if rng.random() < 0.5:
        paragraphs = _with_credit(paragraphs, story, rng.random(), wire, src, rng)
        notes.append("credit")
    if rng.random() < 0.5:
        intro = rng.choice(_INTROS).format(wire=wire, src=src)
        paragraphs = [intro, *paragraphs]
        notes.append("intro")
    return paragraphs, notes


def _with_credit(
    paragraphs: list[str], story: Story, draw: float, wire: str, src: str, rng: random.Random
) -> list[str]:
    """Add a credit line: a header (headline + credit) at the top, or a line at the bottom."""
    if draw < 0.4:
        header = [story.title, rng.choice(_CREDITS_TOP).format(wire=wire, src=src)]
        return header + paragraphs
    line = rng.choice(_CREDITS_BOTTOM).format(wire=wire, src=src, url=story.url)
    if draw < 0.6:
        return [rng.choice(_CREDITS_TOP).format(wire=wire, src=src), *paragraphs]
    return [*paragraphs, line]


def _edit_words(paragraphs: list[str], rate: float, rng: random.Random) -> list[str]:
    """Apply round(rate * words) edits: typos, synonym or neighbour swaps, deletions, inserts."""
    tokens = [p.split(" ") for p in paragraphs]
    positions = [(i, j) for i, para in enumerate(tokens) for j in range(len(para))]
    edits = max(1, round(rate * len(positions)))
    for i, j in sorted(rng.sample(positions, min(edits, len(positions)))):
        word = tokens[i][j]
        op = rng.choices(("typo", "swap", "delete", "insert"), (35, 30, 20, 15))[0]
        if op == "typo":
            tokens[i][j] = _typo(word, rng)
        elif op == "swap":
            lead, core, tail = re.match(r"^(\W*)(.*?)(\W*)$", word).groups()
            repl = _SYNONYMS.get(core.lower())
            if repl:
                repl = repl.capitalize() if core[:1].isupper() else repl
                tokens[i][j] = lead + repl + tail
            elif j + 1 < len(tokens[i]):
                tokens[i][j], tokens[i][j + 1] = tokens[i][j + 1], tokens[i][j]
        elif op == "delete":
            tokens[i][j] = ""
        else:
            tokens[i][j] = f"{rng.choice(_FILLERS)} {word}"
    return [" ".join(t for t in para if t) for para in tokens if any(para)]


def _typo(word: str, rng: random.Random) -> str:
    """One character-level change inside a word (a typo made, or one fixed)."""
    letters = [k for k, c in enumerate(word) if c.isalpha()]
    if len(letters) < 4:
        return word
    k = rng.choice(letters[1:-1])
    kind = rng.randrange(3)
    if kind == 0 and k + 1 < len(word):
        return word[:k] + word[k + 1] + word[k] + word[k + 2 :]
    if kind == 1:
        return word[:k] + word[k + 1 :]
    return word[:k] + word[k] + word[k:]


def _vary_title(title: str, rng: random.Random) -> str:
    draw = rng.random()
    if draw < 0.1:
        return f"{rng.choice(('MUST READ:', 'VIDEO:', 'Breaking:', 'Repost:'))} {title}"
    if draw < 0.2:
        return title.split(" | ")[0].split(" - ")[0]
    return title


def _commentary(kw: str, rng: random.Random) -> str:
    sentences = rng.sample(_COMMENTARY, rng.randint(2, 4))
    return " ".join(s.format(kw=kw) for s in sentences)


def _key_phrase(title: str) -> str:
    """Two or three consecutive content words of a headline, in lower case."""
    words = re.findall(r"[A-Za-z][\w'-]*", title)
    runs: list[list[str]] = [[]]
    for word in words:
        if word.lower() in _STOP:
            runs.append([])
        else:
            runs[-1].append(word)
    best = max(runs, key=len) if any(runs) else words[:2]
    return " ".join(best[:3]).lower() or "this story"


# ---------------------------------------------------------------------------------------------
# Negatives


def _negatives(stories: list[Story], rng: random.Random, urls: set[str]) -> Iterator[Item]:
    known = [_shingles(" ".join(s.paragraphs)) for s in stories]
    neighbours = _nearest(stories)
    made = 0
    english = [s for s in stories if s.language == "en"]
    for story in rng.sample(english, len(english)):
        if made >= TOPIC_NEGATIVES:
            break
        title, paragraphs = _topic_article(story, [stories[k] for k in neighbours[story.key]], rng)
        if not _is_new(paragraphs, known):
            continue
        site = rng.choice(SITES)
        page, url = _render(site, title, paragraphs, story, stories, rng, urls, ["topic"])
        yield Item(
            f"neg-topic-{story.key}", f"neg-topic-{story.key}", "negative", site.host, url, page,
            f"{site.template};topic;of={story.key}",
        )  # fmt: skip
        made += 1
    for n in range(DIGEST_NEGATIVES * 3):
        if made >= TOPIC_NEGATIVES + DIGEST_NEGATIVES:
            break
        site = rng.choice(SITES)
        picks = rng.sample(stories, rng.randint(5, 7))
        paragraphs = [site.digest_intro]
        for pick in picks:
            first = _sentences(" ".join(pick.paragraphs))[:1] or [pick.paragraphs[0]]
            paragraphs.append(f"{pick.title.split(' | ')[0]}. {_clip(first[0], 40)} ({pick.site})")
        paragraphs.append(site.digest_outro)
        if not _is_new(paragraphs, known):
            continue
        title = f"{site.name} digest #{100 + n}: {rng.choice(_MONTHS)} {rng.randint(1, 28)}"
        page, url = _render(site, title, paragraphs, None, stories, rng, urls, ["digest"])
        yield Item(
            f"neg-digest-{n}", f"neg-digest-{n}", "negative", site.host, url, page,
            f"{site.template};digest;of=" + ",".join(p.key for p in picks),
        )  # fmt: skip
        made += 1


def _short_negatives(
    short: list[Story], stories: list[Story], rng: random.Random, urls: set[str]
) -> Iterator[Item]:
    """The corpus's short pages (SHORT_MIN_WORDS to MIN_WORDS words) as short Blogger posts,
    where the template's boilerplate is the largest share of the page."""
    bloggers = [site for site in SITES if site.template == "blogger"]
    for story in short:
        site = rng.choice(bloggers)
        paragraphs = list(story.paragraphs)
        page, url = _render(site, story.title, paragraphs, None, stories, rng, urls, ["short"])
        yield Item(
            f"neg-short-{story.key}", f"neg-short-{story.key}", "negative", site.host, url, page,
            f"{site.template};short;of={story.key}",
        )  # fmt: skip


_QUAKE_PLACES = (
    ("Ridgecrest", "Inyokern", "China Lake", "Lancaster"),
    ("Parkfield", "Coalinga", "San Miguel", "Paso Robles"),
    ("Petrolia", "Ferndale", "Fortuna", "Eureka"),
    ("Anza", "Aguanga", "Idyllwild", "Hemet"),
    ("Malibu", "Topanga", "Calabasas", "Santa Monica"),
    ("Barstow", "Yermo", "Hinkley", "Victorville"),
)
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_SECTORS = (
    ("Technology", "Nvidia"), ("Energy", "Exxon Mobil"), ("Financial", "JPMorgan Chase"),
    ("Health care", "Pfizer"), ("Consumer discretionary", "Amazon"), ("Industrial", "Boeing"),
    ("Utilities", "Duke Energy"), ("Communication services", "Alphabet"),
)  # fmt: skip
_MARKET_EVENTS = (
    "reporting quarterly results that beat analysts' estimates",
    "the company cut its full-year outlook",
    "a brokerage upgraded the stock to buy",
    "news of a planned acquisition",
    "regulators opened an inquiry into its pricing",
    "announcing a new share buyback programme",
)
_MARKET_DRIVERS = (
    "weighed fresh data on inflation",
    "digested a batch of corporate earnings",
    "looked ahead to the Federal Reserve's policy meeting",
    "shrugged off a rise in Treasury yields",
    "assessed signs of a cooling labour market",
)
_ANALYSTS = (
    ("Karen Liu", "chief market strategist", "Harbor Point Advisors"),
    ("Tom Delaney", "head of equity research", "Ridgeline Capital"),
    ("Ana Souza", "senior portfolio manager", "Meridian Wealth"),
    ("Rajiv Menon", "chief investment officer", "Crestview Partners"),
)
_MARKET_QUOTES = (
    "The market is looking for a reason to rally, and today it found one.",
    "Investors are still trying to figure out where rates will settle.",
    "Earnings have been better than feared, and that is keeping a floor under stocks.",
    "We are seeing a rotation out of the winners of the past year.",
    "Volatility is likely to stay elevated until the Fed gives a clearer signal.",
)
_KOREAN_CITIES = ("Seoul", "Incheon", "Daejeon", "Gwangju", "Daegu", "Busan", "Ulsan", "Jeju")


def _quake_report(rng: random.Random) -> tuple[str, list[str]]:
    """An automated earthquake report (the Quakebot format)."""
    near = rng.choice(_QUAKE_PLACES)
    mag, day = round(rng.uniform(3.0, 5.4), 1), rng.choice(_DAYS)
    part = rng.choice(("morning", "afternoon", "evening", "night"))
    clock = f"{rng.randint(1, 12)}:{rng.randint(0, 59):02d} {rng.choice(('a.m.', 'p.m.'))}"
    miles = [rng.randint(2, 9), *sorted(rng.sample(range(8, 90), 3))]
    nearby = rng.randint(0, 14)
    first = rng.choice((
        f"A magnitude {mag} earthquake was reported {day} {part} at {clock} Pacific time "
        f"{miles[0]} miles from {near[0]}, California, according to the U.S. Geological Survey.",
        f"A shallow magnitude {mag} earthquake struck {miles[0]} miles from {near[0]} on {day} "
        f"{part}, the U.S. Geological Survey said. The temblor occurred at {clock} Pacific time.",
    ))  # fmt: skip
    return f"Magnitude {mag} earthquake strikes near {near[0]}, California", [
        first,
        f"The earthquake occurred {miles[1]} miles from {near[1]}, {miles[2]} miles from "
        f"{near[2]} and {miles[3]} miles from {near[3]}.",
        f"In the last 10 days, there have been {nearby} earthquakes of magnitude 3.0 or greater "
        "centered nearby."
        if nearby
        else "There have been no earthquakes of magnitude 3.0 or greater centered nearby in the "
        "last 10 days.",
        f"An average of {rng.choice((5, 25, 134))} earthquakes with magnitudes between "
        f"{mag // 1:.0f}.0 and {mag // 1 + 1:.0f}.0 occur per year in California and Nevada, "
        "according to a recent three-year data sample.",
        f"The earthquake occurred at a depth of {rng.uniform(0.5, 12):.1f} miles. Did you feel "
        "this earthquake? Consider reporting what you felt to the USGS.",
        "Even if you didn't feel the quake, you can sign up to receive alerts on your phone from "
        "the state's earthquake early warning system.",
        "This story was automatically generated by Quakebot, a computer application that "
        "monitors the latest earthquakes detected by the USGS. An editor reviewed the post "
        "before it was published. If you're interested in learning more about the system, "
        "visit our list of frequently asked questions.",
    ]


def _market_close(rng: random.Random) -> tuple[str, list[str]]:
    """A wire-style end-of-day stock market brief."""
    up = rng.random() < 0.5
    day = rng.choice(_DAYS[:5])
    sign = (lambda x: x) if up else (lambda x: -x)
    pct = [round(rng.uniform(0.1, 1.8), 1) for _ in range(5)]
    sector, company = rng.choice(_SECTORS)
    name, role, firm = rng.choice(_ANALYSTS)
    verb = ("rose", "gained", "added") if up else ("fell", "lost", "dropped")
    title = f"Stocks {'rise' if up else 'fall'} as investors {rng.choice(_MARKET_DRIVERS)}"
    return title, [
        f"U.S. stocks {'closed higher' if up else 'ended lower'} on {day} as investors "
        f"{rng.choice(_MARKET_DRIVERS)}.",
        f"The Dow Jones Industrial Average {verb[0]} {rng.uniform(40, 600):.2f} points, or "
        f"{pct[0]}%, to {rng.uniform(31000, 39000):,.2f}, the S&P 500 {verb[1]} {pct[1]}% to "
        f"{rng.uniform(3900, 5200):,.2f} and the Nasdaq Composite {verb[2]} {pct[2]}% to "
        f"{rng.uniform(11000, 16500):,.2f}.",
        f"{sector} shares led the {'gains' if up else 'declines'}, with {company} "
        f"{'up' if up else 'down'} {rng.uniform(1, 9):.1f}% after {rng.choice(_MARKET_EVENTS)}.",
        f"The yield on the benchmark 10-year Treasury note {rng.choice(('rose', 'fell'))} to "
        f"{rng.uniform(3.4, 4.9):.2f}%, while U.S. crude {rng.choice(('climbed', 'slipped'))} "
        f"{rng.uniform(0.2, 3):.1f}% to ${rng.uniform(68, 92):.2f} a barrel.",
        f"In Europe, the pan-European STOXX 600 index {'closed up' if up else 'ended down'} "
        f"{pct[3]}%, and in Asia, Japan's Nikkei moved {sign(pct[4]):+.1f}%.",
        f'"{rng.choice(_MARKET_QUOTES)}" said {name}, {role} at {firm}.',
        f"Volume on U.S. exchanges was {rng.uniform(9, 14):.1f} billion shares, compared with "
        f"the {rng.uniform(10, 12):.1f} billion average for the full session over the last 20 "
        "trading days.",
    ]


def _weather_forecast(rng: random.Random) -> tuple[str, list[str]]:
    """A national weather-service forecast brief (the KBS format in the corpus)."""
    cold = rng.random() < 0.5
    day, prev = rng.sample(_DAYS, 2)
    cities = rng.sample(_KOREAN_CITIES, 4)
    low = sorted(rng.sample(range(-15, 6) if cold else range(18, 29), 2))
    high = sorted(rng.sample(range(-3, 10) if cold else range(28, 37), 2))
    waves = [round(rng.uniform(0.5, 4), 1) for _ in range(3)]
    alert = "cold wave alert" if cold else "heat wave advisory"
    return f"{'Colder' if cold else 'Hotter'} temperatures forecast for {day} after {alert}", [
        f"{'Cold' if cold else 'Hot'} weather is forecast for {day} after the Korea "
        f"Meteorological Administration issued a {alert} for {cities[0]} and parts of the "
        f"central region on {prev}.",
        f"Morning lows will range from {low[0]} degrees Celsius to {low[1]} degrees, with "
        f"{cities[1]} at {rng.randint(*low)} degrees, {cities[2]} at {rng.randint(*low)} degrees "
        f"and {cities[3]} at {rng.randint(*low)} degrees.",
        f"Daytime highs are expected to reach between {high[0]} and {high[1]} degrees.",
        "The weather agency advised people to take care of their health, as the daily "
        "temperature range will be wide in most regions.",
        f"Waves are forecast to reach up to {waves[0]} meters in height in the East Sea, "
        f"{waves[1]} meters in the West Sea and {waves[2]} meters in the South Sea.",
        "Fine dust levels are expected to be good or moderate across the country.",
    ]


def _formula_negatives(stories: list[Story], rng: random.Random, urls: set[str]) -> Iterator[Item]:
    """Series of formulaic reports (automated quake reports, market closes, weather briefs):
    each edition a different story sharing much of its wording with the other editions."""
    families = (("quake", _quake_report), ("market", _market_close), ("weather", _weather_forecast))
    hosts = [site for site in SITES if site.template in ("aggregator", "wordpress", "minimal")]
    for name, make in families:
        for n in range(FORMULA_EDITIONS):
            title, paragraphs = make(rng)
            site = rng.choice(hosts)
            page, url = _render(site, title, paragraphs, None, stories, rng, urls, ["formula"])
            key = f"neg-formula-{name}-{n}"
            yield Item(key, key, "negative", site.host, url, page, f"{site.template};formula")


def _topic_article(
    story: Story, neighbours: list[Story], rng: random.Random
) -> tuple[str, list[str]]:
    """Another article on the story's subject that quotes one of its paragraphs."""
    kw = _key_phrase(story.title)
    title = rng.choice(_TOPIC_TITLES).format(kw=kw, Kw=kw[:1].upper() + kw[1:])
    quote_cap = min(80, int(MAX_QUOTE_SHARE * story.words))
    candidates = [p for p in story.paragraphs if 15 <= len(p.split()) <= quote_cap]
    quoted = rng.choice(candidates) if candidates else _clip(story.paragraphs[0], quote_cap)
    quote = rng.choice(_QUOTE_FORMS).format(src=story.site, para=quoted)
    lead = rng.choice(_TOPIC_LEADS).format(kw=kw, src=story.site)
    borrowed: list[str] = []
    for other in neighbours:
        pool = [s for s in _sentences(" ".join(other.paragraphs)) if 8 <= len(s.split()) <= 40]
        borrowed += rng.sample(pool, min(3, len(pool)))
    rng.shuffle(borrowed)
    body: list[str] = []
    while borrowed:
        chunk, borrowed = borrowed[: rng.randint(2, 3)], borrowed[3:]
        if rng.random() < 0.5:
            chunk.insert(0, rng.choice(_TOPIC_BRIDGES).format(kw=kw))
        body.append(" ".join(chunk))
    at = rng.randint(0, min(2, len(body)))
    return title, [lead, *body[:at], quote, *body[at:]]


def _nearest(stories: list[Story], k: int = 4) -> dict[str, list[int]]:
    """For each story, the k other stories most similar in vocabulary (TF-IDF cosine)."""
    bags = [Counter(_words(" ".join(s.paragraphs))) for s in stories]
    df = Counter(word for bag in bags for word in bag)
    vectors = []
    for bag in bags:
        vec = {w: (1 + math.log(c)) * math.log(len(bags) / df[w]) for w, c in bag.items()}
        norm = math.sqrt(sum(x * x for x in vec.values())) or 1.0
        vectors.append({w: x / norm for w, x in vec.items()})
    nearest = {}
    for i, story in enumerate(stories):
        scores = [
            (sum(x * vectors[j].get(w, 0.0) for w, x in vectors[i].items()), j)
            for j in range(len(stories))
            if j != i
        ]
        nearest[story.key] = [j for _, j in sorted(scores, key=lambda t: (-t[0], t[1]))[:k]]
    return nearest


def _is_new(paragraphs: list[str], known: list[set[tuple[str, ...]]]) -> bool:
    """True if the text is far from every known text; then it becomes a known text itself."""
    shingles = _shingles(" ".join(paragraphs))
    for other in known:
        union = len(shingles | other)
        if union and len(shingles & other) / union >= MAX_NEGATIVE_JACCARD:
            return False
    known.append(shingles)
    return True


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = _words(text)
    return {tuple(words[i : i + SHINGLE]) for i in range(max(1, len(words) - SHINGLE + 1))}


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z\"\u201c])", text) if s.strip()]


def _clip(text: str, words: int) -> str:
    parts = text.split()
    return text if len(parts) <= words else " ".join(parts[:words]) + " ..."


# ---------------------------------------------------------------------------------------------
# Rendering

_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip


def _render(
    site: Site,
    title: str,
    paragraphs: list[str],
    story: Story | None,
    stories: list[Story],
    rng: random.Random,
    urls: set[str],
    notes: list[str],
) -> tuple[str, str]:
    """The page of one post on `site`, and its URL."""
    e = html.escape
    year, month, day = rng.randint(2019, 2023), rng.randint(1, 12), rng.randint(1, 28)
    hour, minute = rng.randint(6, 22), rng.randint(0, 59)
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60] or "post"
    post_id = str(rng.randint(10**17, 10**18))
    path = {
        "blogger": f"/{year}/{month:02d}/{slug}.html",
        "wordpress": f"/{year}/{month:02d}/{day:02d}/{slug}/",
        "aggregator": f"/{rng.choice(_SECTIONS).lower()}/{slug}-{post_id[:8]}",
        "minimal": f"/posts/{slug}/",
        "substack": f"/p/{slug}",
        "tumblr": f"/post/{post_id}/{slug}",
    }[site.template]
    url = f"https://{site.host}{path}"
    while url in urls:
        url += "-2"
    urls.add(url)
    others = [s for s in stories if story is None or s.key != story.key]
    related = rng.sample(others, 6)
    n_comments = rng.choice((0, 0, 1, 2, 3, 5)) if rng.random() < 0.6 else 0
    comments = [
        (rng.choice(_NAMES), rng.choice(_COMMENTS), f"{_MONTHS[month - 1]} {day}, {year}")
        for _ in range(n_comments)
    ]
    notes.append(f"comments{n_comments}")
    src = story.site if story else site.host
    src_url = story.url if story else f"https://{site.host}/"
    values = {
        "url": e(url),
        "host": site.host,
        "site_name": e(site.name),
        "site_json": json.dumps(site.name),
        "tagline": e(site.tagline),
        "about": e(site.about),
        "author": e(site.author),
        "author_slug": re.sub(r"[^a-z0-9]+", "-", site.author.lower()),
        "title": e(title),
        "title_json": json.dumps(title),
        "lead": e(_clip(paragraphs[0], 30)),
        "date_long": f"{_weekday(year, month, day)}, {_MONTHS[month - 1]} {day}, {year}",
        "date_short": f"{_MONTHS[month - 1][:3]} {day}, {year}",
        "date_iso": f"{year}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:00+00:00",
        "time": f"{(hour - 1) % 12 + 1}:{minute:02d} {'AM' if hour < 12 else 'PM'}",
        "year": str(year),
        "post_id": post_id,
        "blog_id": _stable_id(site.host),
        "body": _body(site.template, paragraphs, rng),
        "comments": _comments(site.template, comments),
        "comment_count": str(n_comments),
        "comment_count_text": f"{n_comments} Comments" if n_comments else "No Comments",
        "comment_heading": _comment_heading(site.template, n_comments, title),
        "related": _related(site.template, related[:4], rng),
        "recent": "".join(f"<li><a href='https://{site.host}/'>{e(s.title)}</a></li>"
                          for s in related[2:6]),
        "prev_title": e(related[4].title),
        "next_title": e(related[5].title),
        "archive": _archive(site, year),
        "blogroll": "".join(f"<li><a href='https://{s.host}/'>{e(s.name)}</a></li>"
                            for s in SITES if s.host != site.host)[:1200],
        "categories": "".join(f"<li class='cat-item'><a href='https://{site.host}/category/"
                              f"{c.lower()}/'>{c}</a></li>" for c in _SECTIONS),
        "menu": "".join(f"<li><a href='https://{site.host}/{m.lower()}/'>{m}</a></li>"
                        for m in _MENU),
        "ticker": "".join(f"<li><a href='https://{site.host}/'>{e(s.title)}</a></li>"
                          for s in related[:3]),
        "labels": ", ".join(f"<a href='https://{site.host}/search/label/{w}' rel='tag'>{w}</a>"
                            for w in _tags(title)),
        "tags": " ".join(f"<a href='https://{site.host}/tag/{w}/' rel='tag'>#{w}</a>"
                         for w in _tags(title)),
        "category": (cat := rng.choice(_SECTIONS)),
        "category_slug": cat.lower(),
        "section": cat,
        "section_slug": cat.lower(),
        "source_line": f"Source: <a rel='nofollow' href='{e(src_url)}'>{e(src)}</a>",
        "source_url": e(src_url),
        "source_name": e(src.split(".")[0]),
        "read_minutes": str(max(1, sum(len(p.split()) for p in paragraphs) // 230)),
        "likes": str(rng.randint(0, 400)),
        "notes_count": str(rng.randint(3, 900)),
        "followers": str(rng.randint(20, 3000)),
    }  # fmt: skip
    return TEMPLATES[site.template].substitute(values), url


def _stable_id(text: str) -> str:
    return str(int.from_bytes(text.encode()[:8].ljust(8, b"\0"), "big") % 10**18)


def _weekday(year: int, month: int, day: int) -> str:
    return datetime.date(year, month, day).strftime("%A")


def _body(template: str, paragraphs: list[str], rng: random.Random) -> str:
    """The post body in the markup its platform produces."""
    e = html.escape
    if template == "blogger":
        if rng.random() < 0.5:  # the classic editor: one block of text with <br />
            return "<div dir='ltr' style='text-align: left;'>" + "<br /><br />".join(
                e(p, quote=False) for p in paragraphs
            ) + "</div>"  # fmt: skip
        return "".join(f"<div>{e(p, quote=False)}</div><div><br /></div>" for p in paragraphs)
    if template == "wordpress":
        return "\n".join(
            f"<!-- wp:paragraph -->\n<p>{e(p, quote=False)}</p>\n<!-- /wp:paragraph -->"
            for p in paragraphs
        )
    if template == "substack":
        return "".join(f"<p><span>{e(p, quote=False)}</span></p>" for p in paragraphs)
    return "\n".join(f"<p>{e(p, quote=False)}</p>" for p in paragraphs)


def _comments(template: str, comments: list[tuple[str, str, str]]) -> str:
    e = html.escape
    out = []
    for n, (name, text, date) in enumerate(comments):
        name, text = e(name), e(text)
        if template == "blogger":
            out.append(
                f"<li class='comment' id='c{n}'><div class='avatar-image-container'><img "
                f"src='//resources.blogblog.com/img/blank.gif' alt=''/></div><div class='comment-"
                f"block'><div class='comment-header'><cite class='user'>{name}</cite><span "
                f"class='datetime secondary-text'><a rel='nofollow'>{date}</a></span></div><p "
                f"class='comment-content'>{text}</p><span class='comment-actions secondary-text'>"
                f"<a class='comment-reply' target='_self'>Reply</a><span class='item-control blog-"
                f"admin'><a target='_self'>Delete</a></span></span></div></li>"
            )
        elif template == "wordpress":
            out.append(
                f'<div id="comment-{n}" class="comment even thread-even depth-1"><article '
                f'class="comment-body"><footer class="comment-meta"><div class="comment-author '
                f'vcard"><span class="fn">{name}</span><span class="screen-reader-text says">'
                f'says:</span></div><div class="comment-metadata"><time>{date}</time></div>'
                f'</footer><div class="comment-content entry-content"><p>{text}</p></div><footer '
                f'class="comment-footer-meta"><span class="comment-reply"><a class="comment-reply-'
                f'link" rel="nofollow">Reply</a></span></footer></article></div>'
            )
        elif template == "tumblr":
            out.append(f"<li class='note'><a>{name}</a> reblogged this and added: {text}</li>")
        else:
            out.append(
                f"<div class='comment'><div class='comment-meta'><span class='comment-author'>"
                f"{name}</span> <span class='comment-date'>{date}</span></div><div class='"
                f"comment-body'><p>{text}</p></div><div class='comment-actions'><a>Like</a> "
                f"&middot; <a>Reply</a></div></div>"
            )
    return "".join(out) or ("" if template == "blogger" else "<p class='no-comments'>"
                            "No comments yet. Be the first to comment.</p>")  # fmt: skip


def _comment_heading(template: str, count: int, title: str) -> str:
    if template == "blogger":
        return "No comments:" if count == 0 else f"{count} comment{'s' * (count > 1)}:"
    return f"{count} thoughts on &ldquo;{html.escape(title)}&rdquo;" if count else "Comments"


def _related(template: str, related: list[Story], rng: random.Random) -> str:
    """Related/popular posts: titles, and on most platforms a snippet of each."""
    e = html.escape
    out = []
    for story in related:
        snippet = e(_clip(story.paragraphs[0], rng.randint(12, 25)))
        title = e(story.title)
        if template == "blogger":
            out.append(
                f"<li><div class='item-content'><div class='item-title'><a href='#'>"
                f"{title}</a></div><div class='item-snippet'>{snippet}</div></div></li>"
            )
        elif template == "wordpress":
            out.append(
                f'<div class="jp-relatedposts-post"><h4 class="jp-relatedposts-post-title">'
                f'<a class="jp-relatedposts-post-a" href="#">{title}</a></h4><p class="jp-'
                f'relatedposts-post-excerpt">{snippet}</p></div>'
            )
        elif template in ("aggregator", "substack"):
            out.append(f"<li class='card'><a href='#'><h3>{title}</h3><p>{snippet}</p></a></li>")
        else:
            out.append(f"<li><a href='#'>{title}</a></li>")
    return "".join(out)  # fmt: skip


def _archive(site: Site, year: int) -> str:
    rng = random.Random(site.host)
    return "".join(
        f"<li class='archivedate'><a class='post-count-link' href='https://{site.host}/{y}/'>{y}"
        f"</a> <span class='post-count'>({rng.randint(40, 300)})</span></li>"
        for y in range(year, year - 5, -1)
    )


def _tags(title: str) -> list[str]:
    words = [w.lower() for w in re.findall(r"[A-Za-z]{4,}", title) if w.lower() not in _STOP]
    return list(dict.fromkeys(words))[:3] or ["news"]


if __name__ == "__main__":  # python -m benchmarks.dedup_set [CORPUS]: counts and time
    import time

    from benchmarks.corpus import DEFAULT_CORPUS, corpus_manifest

    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CORPUS
    corpus_manifest(corpus)
    start = time.perf_counter()
    result = generate(corpus)
    print(dict(Counter(item.role for item in result)), f"{time.perf_counter() - start:.1f} s")
