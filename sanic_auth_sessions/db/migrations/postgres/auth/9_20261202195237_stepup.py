"""Step-up re-authentication: each session stores the time of its latest authentication
(its login or latest re-authentication) and that authentication's RFC 8176 methods. Sessions
that existed before count from their creation, as password logins.
"""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "auth_sessions" ADD "auth_time" TIMESTAMPTZ;
        ALTER TABLE "auth_sessions" ADD "amr" VARCHAR(64) NOT NULL DEFAULT 'pwd';
        UPDATE "auth_sessions" SET "auth_time" = "created_at";"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "auth_sessions" DROP COLUMN "auth_time";
        ALTER TABLE "auth_sessions" DROP COLUMN "amr";"""


MODELS_STATE = (
    "eJztXetz2rgW/1c0fNl2BpiEPJqbe+fOkJS23DbQSUi3u5sd49gCvDGS149Qbm//96sj2+"
    "An2ASDcfWlDdI5kvyTdHwe0vH3muzYk2ZnKmv6gD5hUrtE32tEnmL2R6yuzooMw6+Bn7b8"
    "qC9IJQykkg20Fid+tGxTVmxGMJJ1C7MiFVuKqRm2RqGrWhtZGhnruOFYGHH2xjM2tZGmyE"
    "CCqOmVKhOZjDHibf8TUaLPkWZb6O5Du9E6O0eahSybmlhtQr8qVVjHrOFiunggD2Q45EzD"
    "IZTbE4xkVTWxZTEWNJMtBJVYZY2hV7xWUahD7F8sNGL9ySg4gjrnJ3jG+sQPxCVwB/O6ib"
    "7Iuqa6o5lNWJt8TOxRTNbWcGhhxTE1ey5Ztjw1lqNhLS1HomI009hMAjQO0f52MJujMWZ0"
    "JgPojz9ZsUZU/A1b8PN7baRhXeV/16AjSVOB03BMg1q4BuT4mwEPywZv+S14a4Y4ug7rYm"
    "7wZVHjxGwR8B8/6ijUOocw2Db7UzGxbGNVku0X9QSExpPEOwutafdheLnk897fd9++45Sw"
    "eB4lherOlCypjbk9oWRB7jia2gQeqBtjgk0YcWCRw9C8jeEXubizAtt08AJwdVmg4pHs6L"
    "BVav8aOUTha5P3BP+c/tsbWoBMknr9gXTXGUhSLbazPHSCO8ErUhiUDCaN2IDo9x9uu0tA"
    "eGkNOrj+0L59dXL+mkNALXts8koOV+0HZ5RtWVpO6BLlwISGob6eyGaHOFMOd5eNRCYKjs"
    "EeYI9gz4a+Cep+wRL2pUDyAfUhyw5y7Uvntvvut0t3O88fCEOs975z6e3eqChKnoDaVP4m"
    "6ZiMmUS9RMfnKybkS/uWz8mxOyeUyVZX+va8mhav+sH3mT8VXJ5JE9maJM9G8sIPc21nEt"
    "Yv/fxTkHmdh2E+P80A8/lpKsxQFYZ5IcuyIrwUfiVe4RvC2zrLgi+jSgWY14URDr/r8kAd"
    "56wg5ietDJCftFIRh6rIkv5maEzkw6s4BvZbBpOtTXHK2g5xRsBWPdam/8d2oN+lMFmB9K"
    "B707kbtG8+Q/NTy/pb53C1Bx2oafHSeaT0VVSeLxpBv3YHHxD8RL/3e53om3hBN/gdlCvQ"
    "wqlE6Exi2mgAJL/YLwrNMlPx1A2mOMC2hfn1Jq8sO6tK8xtQqHNOcZhzN7t4twKUPaDaZ6"
    "aVtwIPZNq9zbJuV/uGW1ZbJ2jrbdHgKe9WXmPfgAk5eko0bwCqOLTvqIm1MfmI5zHrJgIo"
    "d6zce40cJqDL0uWKNOXZwuIOLif25CrWse2qae276/bbjmuiP8rK00w2VSkENNTQFo2ULG"
    "jjVdPWNFoiE3nMwYGn8DbRpHmDp4/YtCaaUYs5ugJ19TWOrumCNJufKx3cBH/MH4vlRc2x"
    "TLT/ci9R7c9VfpogpQe6SfWtOmsSuviLakS4ag7cVcPXSQznbH4an3d35lTN3Xo5Ia71f+"
    "11bi8RnbERPZD225tu7xLJ6lQjD+Smc3MFlW7LD+T9PXv5XqKxgy27HC6c5T7LqcGFGIUC"
    "d0gKXIK4zSoJE1iFQhfZUkI/FvpxyfXjNGnwYmD7kcYqCnCCGCyRITKSmYqlg9KAa3FTJF"
    "hbX2eMjGRJ8akzxt0HE4wszCBUkWVjA9ERkpFOxxqpo5ms2Qx/HqmGYLNCVdxEXRvizdAX"
    "Dw25oWY3II4gTJQUei+kF4i+X1GH8OA6xLpV/KwpGBqHX4ZsWTNquj3W0TMPn2eLnD+QtN"
    "B5HTnE1nTGtvRsD4d1PvjhsH0/+CDdvGtLN+2vUnsw6LD3/h1rER7JqrMGFZwx9i5Mob2a"
    "QiJUupNQqQjk7TiQ50rI3As7wlZBqLe/tkeaadnSiL18aYIGnI51lG+HHhVjphYlpot2jM"
    "i2jaeGbcWR7hI7GeggSwRkUCULAvmoKIC59thoHZ++Ob04OT+9YCR8lIuSNysw7/YGIuT/"
    "E4aELQMTe4M5DvKJoH+ZZ1gE/dNFZnV9xsKpKZyaJXdq7sPXFvJ3xnxtUW/oSl9b0KdYQO"
    "hfuIPK5A7i/8dwTrfhfPoKGsrHR0dZbLejo3TjDeoifiDdGefy/nj0lXOxFYJucGQxkAf4"
    "W4p9HGHbCOsDUuw7Xwch5c6H9NVN++vrkIL3qd9775MHpuD6U/8qgrzGrGAm+p4ThMcVpT"
    "qWSYqcDvJFgH9kjEVJEX/h7xb6q37/Uwj6q24U23s4mPPqmM8DI9JcXSLutTgsa2encqbC"
    "xo6hbjjpYU5h4pZl1hM8G3z0MZss3YhYLo/IEd2IGPaY3328xbqc8q5LOBR8YOsgzWr7UZ"
    "yt9dkLv99iC9spGQUSaOpr7C4/qi+ZwLN5igHOnuGK/6pr97UI9tvvAdILFHCzX5iT4nRB"
    "2UwfcbpgBeBbQ1ncDRaBQnE3WMyvCBNW3YYSYUIRJtw7oIcZJrzFCn3G5vyaqrgWM1pDtf"
    "U15qrpEUv8CHg2O7XPDLuQHek2wU+R1/0z8NxcZKafjCxZZ8uijp7w3DsbHz9/v50mN08Z"
    "5+sB4nbwwRqtsCZy2VAefQVjoNs3omAf5nYIhJgqCPP2PQLCisklLcqkzgorRlgxwooRVo"
    "ywYrJaMXeeE7vzjPnAI2ZMuLq+xo5ZeMQxkGcPuLmWheyomo04K3qFueUB0atHx0bDIY9r"
    "NE08YktygtXh8DUYHobt36dt37/tDqTbzqDTG3T7PeluOEzM7V1QV3DLuG0YmKgNMJCaqE"
    "fhti+sfrCPLt2+LEQdW9eeMQok+WamFFx49owdqGH2lcmqHxlxE2J73sIJJA93Ofnf7kOw"
    "Ck5fZ4Pkl8Jc+tmEMmK2k9y04tBQHckPxHIMbLq/qMkXBCPFhI2EkvmUOtbrJmvIu9DHW+"
    "L8w+HXxlte2OhC4YS9LbD5GnrnALEnfiAEzxreHWuVrXDXoIFHJNRG1oTOyAvNxPBbmJW9"
    "xF6MZK3ysSu6n622LWze/QZqAaocFplPL4yxDMaYUNY3Wc1lUs6zRg73o50fjp2dI1tV8C"
    "2WFc4gj8AzckLbkLzvteSR82GuKpyMDwv707MMwv70LFXYQ1VCljVmpZBcPuQwV/VwPst0"
    "3eNsxXWPs6TrHly3z3tnKcJWPbBbZ1lWNaNa8SmK2LpeGFIbQJ0okQXQyUDr1P1GlqRo9j"
    "wP2DHG6gFeyK2xJW7gkDA3xHzJK2DPdhXSdRPkVPHCXELJiwhpZt/H0fzPXb+XIp89+qhl"
    "qSk2+h/SNauw7EABp8mjo+m2RqwmdLsPvwngEzIyYzcio5cfIzMBDVwlBRf24Q0fUNt45y"
    "bVirnCA3X1NX5wm5F6ybkyO8G9TJOD/uAzgkaYOgsffKTmJXfzshkZaeYUg6dYMbFd5y5V"
    "GYHLGfJigvtadWAWESYm1aeMP8kBXkQ34Py+4+QW91xjophzg3ud2527xvvrm3ow7WWnd3"
    "3722fuOv/Y+W045L5mXbZsiYfQIRHnwtX9QHS2eSwbnRw1gqlBZUXB0MMlfPuSqpg7wL0y"
    "94iS+11M4Da93J5w9QWc3wqdGmyYDfZkDWsmG4yedaVBTlHY23VkUYQXB5/QjJpPlsjKWT"
    "K5veIIEl+J0mIR5lFJknirp5IUonpjAo++iaM2zCnOzpTZTxsW0/GZvtLGqakU47wbJVQs"
    "2ex6KRX/0WqdnLxpHZ2cX5ydvnlzdnG0yK0Yr1qVZPGq+x4yFoRmOJ7CwHsfSy8RdqvaEE"
    "Ivk9DzIdz8eltyC0IIllkIiphk+p6r8AFCkUCkYrOesNm90ZcgML2B9VZKF9uL/DrrDpj2"
    "CR5Q9k+hx0vLAPyWD5e+wEXGUYw5x3xsV7rFYIwiC2bF3S94Kmt6HjNkwVC5ZCWtsyzH4R"
    "jVCpMjdiDO/azRIsNRHqQTWCt4BvG4dZEl4Na6SA+4QV3SdzrynpYIc+3wGx1FiYxdRJTl"
    "DYAOMQmcs+Asso7uOOsoA25x7SI/5iHWHcK+KDlk3J+xqbFeEl6W62APcu4b9byq8l7QPs"
    "x0agHF25KJpkjedTb3Mk5ToSZuTimzqqwmwTMpPNQEBX1ron/7SQTgY5lexC3ndohwiu0g"
    "Uk3/fD5D4Sn+GWc9zVOcw7kZ8ZAEchJHRHDmXNMdaGeRD/nAFkKaXzP8rhJJuTMCFfum98"
    "ZYRT4lXkW0UrODbwpacobyKkIXz1S3KWbRBHlVRMs3IF6CE0RW7tx2qgRTrjPcwaToi5PV"
    "6aD6UcF10IZPdB/keZpkYHMF8/zFlRjTC6y8NZlflis9a+7KMcFqQyPIvejWRIMJ5JzkWV"
    "fcDyL8YqHh8C9bWyY+ManNZxTFznA/4XlaQstC+tk8fUnIgbo8E/nCvJeR/CLpndS3ncqk"
    "2NYD5+JEipSDDQp7281VtSS21fI4BhOZKxcs3n7qFLZTnjXqWJIPYE7c0/irdzZ4+9jzF8"
    "hGLqAwpzgIXB6PT9zRt8ckCpuFOe7JE3sWXxUq6h0iMirsRYoVArRIfSNS3+wP50JS34gk"
    "ISJJyE8Be8Qwz6OFRnkrGIqskiJ6WJ/XE9O84TS7yUW0JGtj9SyHGIVNWeo5niZENtLfjx"
    "75Dm1IY+aPIqGwnN4YcdZZHHsri6w60BNQ4tzbzzjraefeynlDurxaiPiwTnnuPu8olWAb"
    "m5oyqcVOVXjl9RUHKpYUpbknnZrUKXEXJyRy8uatvMFYN41T6/j0zenFyfnpInvTomRV0i"
    "ZfA0qPgD9j0z9Ik1W1D7BU8JpuIdEK2FI5EPbIK4huIQ5F1qOdGKBIT5IbYNl9ntz9vOur"
    "kRH3x/8BT9EaeQ=="
)
