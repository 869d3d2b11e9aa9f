"""The phrase tables of the demo store (``memgui.demo``): names, zones, small talk, and the facts and memories
its users mention, each with the line in which a user says it and, for facts, an admin's later correction.

Placeholders: ``{t}`` a topic, ``{age}`` / ``{age1}`` an age and the next one, ``{city}``, ``{first}`` the
user's first name, ``{day}`` a date.
"""

from __future__ import annotations

from typing import NamedTuple

FIRST = ["Alice", "Bruno", "Chloé", "Dmitri", "Emeka", "Fatima", "Gustav", "Hana", "Ivan", "Jun", "Kofi", "Lena",
         "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Viktor", "Wen", "Ximena",
         "Yusuf", "Zoe"]
LAST = ["Adeyemi", "Becker", "Costa", "Dubois", "Eriksen", "Fujita", "García", "Horvat", "Ivanova", "Jensen",
        "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Rossi", "Silva", "Tanaka", "Weber"]
ZONES = ["Europe/Paris", "America/New_York", "Asia/Tokyo", "UTC-5", "Europe/London", "Australia/Sydney",
         "America/Los_Angeles", "+05:30", "Africa/Lagos", "America/Sao_Paulo", "UTC", "Asia/Kolkata", "GMT+2"]
TOPICS = ["my garden", "the new job", "a book I'm reading", "learning Japanese", "my sister's wedding",
          "running a half marathon", "the cat", "cooking ramen", "a trip to Lisbon", "my thesis", "jazz piano",
          "sleeping badly", "the weekend", "List<int> vs List<Integer> in Java", "moving flats"]
USER_LINES = ["Hi Elysia! Can we talk about {t}?", "I've been thinking about {t} all day.",
              "Quick update on {t}: it went better than expected.", "Honestly {t} is stressing me out.",
              "Do you remember what I told you about {t}?", "I <3 talking to you about {t}.",
              "Here's a picture of {t}: <img src=x onerror=alert(1)>", "Good morning :) {t} again, sorry",
              "What would you do about {t}?\nI keep going back and forth."]
BOT_LINES = ["Of course! Tell me more about {t}.", "That sounds like a lot. What part of {t} weighs on you most?",
             "I'm glad {t} went well — you worked hard for it.", "Last time you said {t} felt exciting. Still?",
             "Let's break {t} into small steps. What is the first one?",
             "Here's an idea for {t}:\n1. write it down\n2. sleep on it\n3. decide tomorrow."]
BOT_NOTED = ["Thank you for telling me, I'll remember that.", "Noted! That helps me understand you better.",
             "Oh, I didn't know that. I'll keep it in mind."]
CITIES = ["Lisbon", "Osaka", "Lagos", "Montréal", "Berlin", "Pune", "Austin", "Melbourne"]
MONTHS = ["March", "May", "June", "September", "November"]


class Mention(NamedTuple):
    """Something a user says (``line``) that the assistant stores (``text``); ``correction`` is what an admin
    may later change a fact's text to, from a detail of the line the assistant left out or got wrong."""

    text: str
    line: str
    correction: str = ""


FACTS: dict[str, list[Mention]] = {
    "personal": [
        Mention("Has a younger sister", "My younger sister Marta is visiting this weekend, I can't wait!",
                "Has a younger sister, Marta"),
        Mention("Is {age} years old", "I'm {age} years old and still can't cook rice properly.",
                "Is {age1} years old"),
        Mention("Grew up near the sea", "I grew up near the sea, in a little fishing town. The city feels strange.",
                "Grew up near the sea, in a fishing town"),
        Mention("Is left-handed", "Being left-handed, every pair of scissors in this office hates me.")],
    "location": [
        Mention("Lives in {city}", "It's raining again here in {city}, where I live, right downtown.",
                "Lives in {city}, downtown"),
        Mention("Moved to {city} last year", "I moved to {city} last year. Well, two years ago now, time flies.",
                "Moved to {city} two years ago"),
        Mention("Commutes by bike", "I commute by bike, even in winter. It clears my head.")],
    "preferences": [
        Mention("Prefers tea over coffee", "No coffee for me, thanks, I'll always prefer green tea.",
                "Prefers green tea over coffee"),
        Mention("Likes short answers", "Can you keep it short? I like short answers."),
        Mention("Dislikes small talk", "To be honest I dislike small talk, let's get to the point."),
        Mention("Loves jazz", "I love jazz, I had Coltrane on all evening.", "Loves jazz, especially Coltrane")],
    "work": [
        Mention("Works as a nurse", "Another night shift. Working as a nurse is exhausting but I love it.",
                "Works as a night-shift nurse"),
        Mention("Is a software developer", "As a software developer I spend too much time fixing other people's bugs."),
        Mention("Is writing a thesis", "I'm writing my thesis on coastal erosion, chapter two is a mess.",
                "Is writing a thesis on coastal erosion"),
        Mention("Runs a bakery", "I run a small bakery, so I was up at 4 again.")],
    "hobbies": [
        Mention("Plays the piano", "I played jazz standards on the piano for an hour tonight, my fingers hurt.",
                "Plays the piano (jazz standards)"),
        Mention("Grows tomatoes", "My tomatoes are finally turning red on the balcony!"),
        Mention("Runs every Sunday", "I run every Sunday morning, rain or shine.", "Runs every Sunday morning"),
        Mention("Learns Japanese", "I'm learning Japanese, today I finally got the katakana right.")],
    "health": [
        Mention("Sleeps badly before exams", "I always sleep badly before exams, and there's one tomorrow."),
        Mention("Is allergic to cats", "My friend's cat made me sneeze all night, I'm allergic to cats (and dogs).",
                "Is allergic to cats and dogs"),
        Mention("Started meditating", "I started meditating last week, ten minutes every morning.")],
}

MEMORIES: dict[str, list[Mention]] = {
    "milestone": [
        Mention("Finished the first half marathon", "I did it!!! I finished my first half marathon!"),
        Mention("Got the job offer", "I got the job offer! I start next month."),
        Mention("Defended the thesis", "I defended my thesis this morning. It's over!")],
    "preference": [
        Mention("Wants to be called {first}", "I'd rather be called just {first}, no need to be formal."),
        Mention("Prefers to be asked before advice", "Could you ask me before giving advice? Sometimes I just "
                "want to vent.")],
    "important_date": [
        Mention("Birthday on {day}", "My birthday is on {day}, by the way."),
        Mention("Wedding anniversary on {day}", "Our wedding anniversary is on {day}, remind me to book a table.")],
}
