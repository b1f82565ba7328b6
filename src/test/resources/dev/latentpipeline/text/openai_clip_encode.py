"""OpenAI's CLIP tokenizer, as clip/simple_tokenizer.py (github.com/openai/CLIP, MIT License) encodes text, read
from a Hugging Face vocab.json and merges.txt instead of bpe_simple_vocab_16e6.txt.gz (the same merges).

Run by ClipTokenizerOpenAiReferenceTest: python3 openai_clip_encode.py TOKENIZER_DIR PROMPTS_JSONL
Prints, per prompt, a JSON object: ids (encode(), no start/end tokens), and whether HTML entities or ftfy's
mojibake repair changed the text, the two steps our Java tokenizer leaves out on purpose.
"""
import html
import json
import os
import sys

import ftfy
import regex as re


def basic_clean(text):
    text = ftfy.fix_text(text)
    text = html.unescape(html.unescape(text))
    return text.strip()


def whitespace_clean(text):
    text = re.sub(r'\s+', ' ', text)
    text = text.strip()
    return text


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(2 ** 8):
        if b not in bs:
            bs.append(b)
            cs.append(2 ** 8 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def get_pairs(word):
    return {(word[i], word[i + 1]) for i in range(len(word) - 1)}


class SimpleTokenizer:
    def __init__(self, tokenizer_dir):
        with open(os.path.join(tokenizer_dir, "vocab.json"), encoding="utf-8") as f:
            self.encoder = json.load(f)
        with open(os.path.join(tokenizer_dir, "merges.txt"), encoding="utf-8") as f:
            merges = f.read().split('\n')
        merges = merges[1:49152 - 256 - 2 + 1]
        merges = [tuple(merge.split()) for merge in merges]
        self.byte_encoder = bytes_to_unicode()
        self.bpe_ranks = dict(zip(merges, range(len(merges))))
        self.cache = {'<|startoftext|>': '<|startoftext|>', '<|endoftext|>': '<|endoftext|>'}
        self.pat = re.compile(r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""", re.IGNORECASE)

    def bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        word = tuple(token[:-1]) + (token[-1] + '</w>',)
        pairs = get_pairs(word)
        if not pairs:
            return token + '</w>'
        while True:
            bigram = min(pairs, key=lambda pair: self.bpe_ranks.get(pair, float('inf')))
            if bigram not in self.bpe_ranks:
                break
            first, second = bigram
            new_word = []
            i = 0
            while i < len(word):
                try:
                    j = word.index(first, i)
                    new_word.extend(word[i:j])
                    i = j
                except ValueError:
                    new_word.extend(word[i:])
                    break
                if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                    new_word.append(first + second)
                    i += 2
                else:
                    new_word.append(word[i])
                    i += 1
            word = tuple(new_word)
            if len(word) == 1:
                break
            pairs = get_pairs(word)
        word = ' '.join(word)
        self.cache[token] = word
        return word

    def encode(self, text):
        bpe_tokens = []
        text = whitespace_clean(basic_clean(text)).lower()
        for token in re.findall(self.pat, text):
            token = ''.join(self.byte_encoder[b] for b in token.encode('utf-8'))
            bpe_tokens.extend(self.encoder[bpe_token] for bpe_token in self.bpe(token).split(' '))
        return bpe_tokens


tokenizer = SimpleTokenizer(sys.argv[1])
with open(sys.argv[2], encoding="utf-8") as prompts:
    for line in prompts:
        text = json.loads(line)
        without = ftfy.fix_text(text, unescape_html=False, fix_encoding=False)
        with_mojibake_repair = ftfy.fix_text(text, unescape_html=False)
        full = ftfy.fix_text(text)
        print(json.dumps({
            "ids": tokenizer.encode(text),
            "entities": full != with_mojibake_repair or html.unescape(html.unescape(full)) != full,
            "mojibake": with_mojibake_repair != without,
        }))
