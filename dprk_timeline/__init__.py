"""dprk-timeline: an event-sourced data package of North Korea's missile launches,
the official statements about them and the sanctions actions around them.

Data flows one way: events/ -> log -> replay -> tables -> data/*.csv + datapackage.json,
with checks at each stage (see checks/).
"""
