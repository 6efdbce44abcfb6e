"""Greetings (§4.2): Friday key-customer drafts per rep, China-holiday greetings, the December
new-year gift list with a demand survey, Christmas cards — drafted, reviewed and sent one by one."""
